import XDPKitObject

extension LoadOptions {
  /// The name of the `.rodata` variable of `xdpkit_log.h` that holds the program's level filter.
  public static let logLevelVariable = "xdpkit_log_level"

  /// These options with ``logLevel`` written into ``globals`` as `xdpkit_log_level`, when the
  /// object has that variable (it has it when it contains a log call). ``logLevel`` wins over a
  /// value given in ``globals``.
  func applyingLogLevel(to object: BPFObject) -> LoadOptions {
    guard let logLevel else { return self }
    guard object.dataSections.contains(where: { $0.variable(named: Self.logLevelVariable) != nil }) else {
      return self
    }
    var options = self
    options.globals[Self.logLevelVariable] = UInt32(logLevel.rawValue)
    return options
  }
}
