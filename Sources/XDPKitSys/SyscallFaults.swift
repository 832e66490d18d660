import SystemPackage

/// Failures injected into chosen bpf(2) commands, for tests of paths that a working kernel never
/// takes, such as a kernel without XDP links. The injection is scoped to a task and its child
/// tasks (a task-local value), so tests running in parallel in the same process are unaffected:
///
/// ```swift
/// try SyscallFaults.$injected.withValue([.linkCreate: .invalidArgument]) { … }
/// ```
///
/// Only the commands whose documentation says so consult it: BPF_LINK_CREATE
/// (``BPF/createLink(program:target:attachType:flags:)`` and ``BPF/supportsXDPLinks()``). The
/// map paths never do.
package enum SyscallFaults {
  /// The errno each command fails with, without reaching the kernel.
  @TaskLocal package static var injected: [BPFCommand: Errno] = [:]

  /// The injected failure for `command`, if any.
  static func failure(_ command: BPFCommand) -> SyscallError? {
    injected[command].map { SyscallError(command: command, errno: $0) }
  }
}
