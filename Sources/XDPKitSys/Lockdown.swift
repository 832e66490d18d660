/// The kernel lockdown LSM's mode, as `/sys/kernel/security/lockdown` reports it.
///
/// Under `integrity` or `confidentiality`, the kernel refuses BPF programs that use
/// trampolines (freplace, fentry/fexit/fmod_ret, LSM) with `EPERM`, whatever the caller's
/// capabilities, and gives no verifier log.
public enum LockdownMode: String, Sendable, Hashable, CustomStringConvertible {
  /// No lockdown (the file says `none`).
  case off = "none"
  /// Lockdown that protects the running kernel's integrity.
  case integrity
  /// Integrity plus protection of kernel memory from being read.
  case confidentiality

  /// The mode marked with brackets in the file's text, such as "none [integrity]
  /// confidentiality"; `nil` when no known mode is marked.
  public init?(fileText text: String) {
    guard let open = text.firstIndex(of: "["),
          let close = text[open...].firstIndex(of: "]")
    else { return nil }
    self.init(rawValue: String(text[text.index(after: open)..<close]))
  }

  /// Whether this mode refuses trampoline programs.
  public var refusesTrampolines: Bool { self != .off }

  public var description: String { rawValue }
}

extension SystemInfo {
  /// Where securityfs publishes the lockdown mode.
  public static let lockdownPath = "/sys/kernel/security/lockdown"

  /// The running kernel's lockdown mode; `nil` when it cannot be read (securityfs is not
  /// mounted, or the kernel has no lockdown LSM: both mean no lockdown is known).
  public static func lockdownMode(path: String = lockdownPath) -> LockdownMode? {
    guard let bytes = try? FileContents.read(path: path, requireRegularFile: false) else { return nil }
    return LockdownMode(fileText: String(decoding: bytes, as: UTF8.self))
  }
}
