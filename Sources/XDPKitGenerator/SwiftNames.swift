/// Swift spellings of C names: `BLOCKLIST` → `blocklist`, `xdp_firewall` → `xdpFirewall`,
/// `action_stats` → `ActionStats`. Deterministic: the same C name always gives the same
/// Swift name, and ``NameScope`` resolves collisions in declaration order.
enum SwiftNames {
  /// The words of a C identifier: split at `_`, and at lower-to-upper changes in mixed case.
  static func words(_ name: String) -> [String] {
    var words: [String] = []
    for part in name.split(separator: "_") where !part.isEmpty {
      var current = ""
      var previousIsLower = false
      for character in part {
        if character.isUppercase && previousIsLower && !current.isEmpty {
          words.append(current)
          current = ""
        }
        current.append(character)
        previousIsLower = character.isLowercase || character.isNumber
      }
      if !current.isEmpty { words.append(current) }
    }
    return words
  }

  /// A word with its first letter capitalised; an all-capitals word (`CIDR4`) is lowered first.
  private static func capitalized(_ word: String) -> String {
    let lowered = word.contains(where: \.isLowercase) ? word : word.lowercased()
    return lowered.prefix(1).uppercased() + lowered.dropFirst()
  }

  /// `lowerCamelCase`, for properties.
  static func property(_ name: String) -> String {
    let parts = words(name)
    guard let first = parts.first else { return "unnamed" }
    let head = first.contains(where: \.isLowercase) ? first.prefix(1).lowercased() + first.dropFirst() : first.lowercased()
    return escaped(head + parts.dropFirst().map(capitalized).joined())
  }

  /// `UpperCamelCase`, for types.
  static func type(_ name: String) -> String {
    let parts = words(name)
    guard !parts.isEmpty else { return "Unnamed" }
    return escaped(parts.map(capitalized).joined())
  }

  /// Swift's keywords and the names no generated member may take.
  static let keywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
    "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch",
    "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat",
    "return", "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self",
    "Self", "super", "throws", "true", "try", "Type", "Protocol", "some", "any", "consume", "copy",
    "borrowing", "consuming", "async", "sending",
  ]

  /// A name that is not a keyword and starts with a letter: keywords get a trailing `_`, names
  /// that start with a digit a leading `_`.
  static func escaped(_ name: String) -> String {
    var result = name
    if result.first?.isNumber == true { result = "_" + result }
    if keywords.contains(result) { result += "_" }
    return result
  }
}

/// The names taken in one Swift scope. A name that is already taken gets the first free
/// suffix of `2`, `3`, …, so the outcome depends only on the order of the requests.
struct NameScope {
  private(set) var taken: Set<String>

  init(reserved: Set<String> = []) { taken = reserved }

  mutating func claim(_ name: String) -> String {
    if taken.insert(name).inserted { return name }
    var suffix = 2
    while !taken.insert("\(name)\(suffix)").inserted { suffix += 1 }
    return "\(name)\(suffix)"
  }
}
