/// A kernel configuration (`.config` text, as in `/boot/config-$(uname -r)` or
/// `/proc/config.gz`): `CONFIG_NAME=value` lines; `# CONFIG_NAME is not set` means `n`.
public struct KernelConfig: Sendable, Equatable {
  /// The raw value text of each option that is set, by name (`"y"`, `"m"`, `"100"`,
  /// `"\"-fc\""`). Options that are not set are absent.
  public var values: [String: String]

  /// Parses configuration text. Lines that are neither assignments nor comments are errors,
  /// so that a file that is not a kernel configuration is not taken for an empty one.
  public init(text: String) throws(KernelConfigError) {
    values = [:]
    for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.trimmingSuffix(while: { $0 == "\r" || $0 == " " })
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard line.hasPrefix("CONFIG_"), let equals = line.firstIndex(of: "=") else {
        throw .malformedLine(number: number + 1, text: String(line.prefix(80)))
      }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
  }

  public init(values: [String: String]) { self.values = values }
}

/// Why a kernel configuration could not be read.
public enum KernelConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A line is neither `CONFIG_X=…` nor a comment.
  case malformedLine(number: Int, text: String)

  public var description: String {
    switch self {
    case .malformedLine(let number, let text): return "line \(number) is not CONFIG_NAME=VALUE: \"\(text)\""
    }
  }
}

extension Substring {
  fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
    var end = endIndex
    while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
    return self[startIndex..<end]
  }
}
