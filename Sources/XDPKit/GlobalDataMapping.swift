import Glibc
import XDPKitSys

/// A data-section map (`.data`, `.bss`, `.rodata`, `.kconfig`) created with BPF_F_MMAPABLE and
/// mmapped: globals are read and written as memory, with no system call and no copy of the
/// whole section. Owned by the ``LoadedObject``; unmapped once, when the last reference goes
/// (a ``LoadedObject/withGlobalPointer(_:as:_:)`` body in progress keeps it mapped).
final class GlobalDataMapping: @unchecked Sendable {
  /// The first byte of the section's value.
  let base: UnsafeMutableRawPointer
  /// The mapped length: the value size rounded up to pages.
  let length: Int
  /// Whether the mapping is writable (not for frozen `.rodata` and `.kconfig` maps).
  let isWritable: Bool

  private init(base: UnsafeMutableRawPointer, length: Int, isWritable: Bool) {
    self.base = base
    self.length = length
    self.isWritable = isWritable
  }

  deinit { munmap(base, length) }

  /// Maps the value of single-element array map `fd` of `valueSize` bytes, writable unless
  /// `readOnly` (a frozen map refuses a writable shared mapping). `nil` when mmap(2) fails.
  static func map(_ fd: BPFFileDescriptor, valueSize: Int, readOnly: Bool) -> GlobalDataMapping? {
    let page = Int(getpagesize())
    let length = (max(valueSize, 1) + page - 1) / page * page
    let protection = readOnly ? PROT_READ : PROT_READ | PROT_WRITE
    guard let address = mmap(nil, length, protection, MAP_SHARED, fd.rawValue, 0), address != MAP_FAILED else {
      return nil
    }
    return GlobalDataMapping(base: address, length: length, isWritable: !readOnly)
  }
}

extension KernelFeatures {
  /// Whether array maps can be created with BPF_F_MMAPABLE and mmapped (Linux 5.5+).
  public static var mmapableArrays: FeatureSupport {
    cached("mmapable arrays") {
      let attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: 8, maxEntries: 1, flags: .mmapable,
                                           name: "xdpkit_probe")
      do throws(SyscallError) {
        _ = try BPF.createMap(attributes)
        return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_MAP_CREATE of a BPF_F_MMAPABLE array succeeded")
      } catch {
        return FeatureSupport(answer: error.errno == .notPermitted ? .undetermined : .unsupported, errno: error.errno,
                              detail: "BPF_MAP_CREATE of a BPF_F_MMAPABLE array: \(error.errno)")
      }
    }
  }
}
