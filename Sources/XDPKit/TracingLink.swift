import Synchronization
import XDPKitObject
import XDPKitSys

/// A tracing, LSM or extension (freplace) program attached through a BPF link.
///
/// The value owns the link: when it is deinitialised (or the process exits) the kernel
/// detaches the program, unless the link was pinned.
public final class TracingLink: Sendable {
  /// The attached program.
  public let program: LoadedProgram
  /// The owned link descriptor; `nil` once ``detach()`` closed it.
  private let descriptor: Mutex<BPFFileDescriptor?>

  init(fileDescriptor: BPFFileDescriptor, program: LoadedProgram) {
    self.descriptor = Mutex(fileDescriptor)
    self.program = program
  }

  /// The owned link descriptor; `nil` after ``detach()``.
  public var fileDescriptor: BPFFileDescriptor? { descriptor.withLock { $0 } }

  /// Whether ``detach()`` has been called.
  public var isDetached: Bool { descriptor.withLock { $0 == nil } }

  /// Detaches the program now. Link types the kernel can detach in place (BPF_LINK_DETACH)
  /// are detached even if pinned; for the others (tracing and freplace links on most
  /// kernels) this value closes its descriptor, which detaches the program unless a pin or
  /// another descriptor still holds the link.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_DETACH, or close(2) where the kernel
  /// answers EOPNOTSUPP.
  public func detach() throws(AttachError) {
    let taken = descriptor.withLock { value in
      defer { value = nil }
      return value
    }
    guard let fd = taken else { throw .detached }
    do {
      try BPF.detachLink(fd)
    } catch where error.errno == .notSupported {
      // Closing `fd` (when it goes out of scope here) drops this value's reference.
    } catch {
      throw .failed("detach \(program.name): \(error)")
    }
  }

  /// Pins the link as `name` in `directory` (mode 0600), so the program stays attached after
  /// this process exits.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(in directory: BPFFSDirectory, as name: String) throws(AttachError) {
    guard let fd = fileDescriptor else { throw .detached }
    do { try directory.pin(fd, as: name) } catch { throw .pinning(error) }
  }

  /// The kernel's description of the link.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public func info() throws(AttachError) -> LinkInfo {
    guard let fd = fileDescriptor else { throw .detached }
    do { return try BPF.linkInfo(fd) } catch { throw .failed("link info: \(error)") }
  }
}

extension LoadedProgram {
  /// Attaches a tracing (fentry/fexit/fmod_ret/tp_btf), LSM or freplace program to the
  /// target it was loaded for (its section's kernel symbol, or
  /// ``LoadOptions/attachTargets``).
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE.
  public func attach() throws(AttachError) -> TracingLink {
    try attachTracing(targetProgram: nil, btfID: 0)
  }

  /// Attaches a freplace program in place of `function` of `target`, which may be another
  /// program than the one it was loaded against, as long as the function's prototype is the
  /// same (Linux 5.10 and later). A dispatcher that runs several XDP programs is built this way.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE with `target_fd` and
  /// `target_btf_id`.
  public func attach(replacing function: String, in target: LoadedProgram) throws(AttachError) -> TracingLink {
    guard type == .ext else {
      throw .failed("attach \(name): only freplace (extension) programs replace a function of another program; this is a \(type) program")
    }
    let id: BTFTypeID?
    do { id = try target.functionTypeID(named: function) } catch {
      throw .failed("attach \(name): reading the BTF of \(target.name): \(error.reason)")
    }
    guard let id else {
      throw .failed("attach \(name): function \(function) not found in the BTF of program \(target.name)")
    }
    return try attachTracing(targetProgram: target.fileDescriptor, btfID: UInt32(id))
  }

  private func attachTracing(targetProgram: BPFFileDescriptor?, btfID: UInt32) throws(AttachError) -> TracingLink {
    guard Loader.trampolineTypes.contains(type) else {
      throw .failed("attach \(name): attach() without a target is for tracing, LSM and freplace programs; this is a \(type) program")
    }
    do {
      let fd = try BPF.createTracingLink(
        program: fileDescriptor, targetProgram: targetProgram, targetBTFID: btfID,
        attachType: expectedAttachType ?? BPFAttachType(rawValue: 0))
      return TracingLink(fileDescriptor: fd, program: self)
    } catch {
      throw .failed("attach \(name): \(error)")
    }
  }
}
