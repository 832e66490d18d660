import XDPKitObject
import XDPKitSys

/// Why adding a program to, removing it from, or reading an interface's multi-program
/// dispatcher failed. Each case names the program, the dispatcher or the pin involved.
public enum MultiProgramError: Error, Sendable, CustomStringConvertible {
  /// The interface could not be resolved, or attaching the dispatcher to it failed.
  case interface(AttachError)
  /// The object has no program of that name, or it is not an XDP program.
  case noSuchProgram(String, available: [String])
  /// The program's `.xdp_run_config` could not be read.
  case invalidRunConfig(program: String, XDPMetadataError)
  /// Loading the dispatcher failed.
  case dispatcherLoad(LoadError)
  /// The shipped dispatcher object, or a program just loaded, could not be used.
  case dispatcherUnusable(String)
  /// Loading a component program as an extension of the dispatcher failed. On a kernel under
  /// lockdown this carries ``LoadError/lockedDown(program:type:mode:)``.
  case componentLoad(program: String, LoadError)
  /// Linking a component into a dispatcher slot (BPF_LINK_CREATE) failed.
  case linking(program: String, slot: Int, AttachError)
  /// Creating, pinning, reading or removing a pin under the xdp bpffs directory failed.
  case pins(BPFFSError)
  /// A program that is not a dispatcher is attached to the interface: XDPKit will not replace
  /// it (detach it first).
  case notADispatcher(programID: UInt32, name: String, reason: String)
  /// The dispatcher on the interface speaks a newer protocol version than XDPKit (2).
  case newerDispatcher(programID: UInt32, version: UInt32, supported: UInt32)
  /// The dispatcher on the interface speaks an older protocol version: its programs can be
  /// listed, but replacing it would lock out the loader that installed them.
  case olderDispatcher(programID: UInt32, version: UInt32)
  /// A dispatcher runs at most ten programs.
  case tooManyPrograms(Int)
  /// The program is not (or no longer) one of the dispatcher's programs on the interface.
  case notAttached(programID: UInt32, interface: String)
  /// The dispatcher is attached in another mode than the one asked for.
  case modeMismatch(requested: XDPAttachMode, attached: XDPAttachMode)
  /// The interface's program kept changing under this change; it gave up after `attempts`.
  case raced(attempts: Int)
  /// A bpf(2) call on an installed dispatcher failed.
  case syscall(String, SyscallError)

  public var description: String {
    switch self {
    case .interface(let e): return "\(e)"
    case .noSuchProgram(let name, let available):
      return "no XDP program \(name) in the object (XDP programs: \(available.joined(separator: ", ")))"
    case .invalidRunConfig(let program, let e): return "run config of \(program): \(e)"
    case .dispatcherLoad(let e): return "load the dispatcher: \(e)"
    case .dispatcherUnusable(let what): return "dispatcher: \(what)"
    case .componentLoad(let program, let e): return "load \(program) as a dispatcher component: \(e)"
    case .linking(let program, let slot, let e): return "link \(program) into dispatcher slot prog\(slot): \(e)"
    case .pins(let e): return "dispatcher pins: \(e)"
    case .notADispatcher(let id, let name, let reason):
      return "program \(id) (\(name)) on the interface is not a multi-program dispatcher (\(reason)); detach it first"
    case .newerDispatcher(let id, let version, let supported):
      return "dispatcher \(id) speaks protocol version \(version); XDPKit supports up to \(supported) and will not touch it"
    case .olderDispatcher(let id, let version):
      return "dispatcher \(id) speaks protocol version \(version); XDPKit lists its programs but does not replace an older dispatcher (unload its programs first)"
    case .tooManyPrograms(let count):
      return "\(count) programs: a dispatcher has \(XDPDispatcherConfig.slotCount) slots"
    case .notAttached(let id, let interface):
      return "program \(id) is not one of the dispatcher's programs on \(interface)"
    case .modeMismatch(let requested, let attached):
      return "the dispatcher is attached in \(attached) mode, not \(requested)"
    case .raced(let attempts):
      return "the interface's XDP program changed under every one of \(attempts) attempts"
    case .syscall(let what, let e): return "\(what): \(e)"
    }
  }
}
