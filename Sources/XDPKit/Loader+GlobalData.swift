import Glibc
import XDPKitMaps
import XDPKitObject
import SystemPackage
import XDPKitSys

// Global data: one array map per data section, filled with the section's bytes and the
// user's globals.

extension Loader {
  // MARK: Global data

  /// One single-element array map per data section; its value is the section's bytes with the
  /// user's globals applied. `.rodata*` maps are read-only for programs and frozen after the
  /// fill, so the verifier can treat their contents as constants.
  mutating func createDataMap(_ section: DataSection) throws(LoadError) {
    guard section.size > 0, let valueSize = UInt32(exactly: section.size) else { return }
    var flags = MapCreateFlags()
    if section.kind == .rodata { flags.insert(.readOnlyForPrograms) }
    // Mmapable where the kernel can (5.5+), as libbpf makes them: globals are then memory.
    if KernelFeatures.mmapableArrays.isSupported { flags.insert(.mmapable) }
    var attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: valueSize, maxEntries: 1,
                                         flags: flags, name: mapName(forSection: section.name))
    if let btf, let datasec = section.btfTypeID {
      attributes.btf = btf
      attributes.btfValueTypeID = datasec
    }
    let fd: BPFFileDescriptor
    do { fd = try BPF.createMap(attributes) } catch {
      if attributes.btf == nil { throw .mapCreation(map: section.name, error) }
      attributes.btf = nil
      attributes.btfValueTypeID = 0
      do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: section.name, error) }
    }
    let globals = options.globals.isEmpty ? [] : section.variables.compactMap { variable in
      options.globals[variable.name].map { (offset: Int(variable.offset), value: $0) }
    }
    // A new array map's value is all zeros: a section without file bytes (`.bss`) and without
    // a global set by the options needs no write.
    if !section.initialBytes.isEmpty || !globals.isEmpty {
      // Built only now that the kernel has accepted the size (a crafted .bss cannot make the
      // loader allocate more than the kernel allows for one map value).
      var bytes = section.initialBytes
      if bytes.count < Int(valueSize) { bytes.append(contentsOf: repeatElement(0, count: Int(valueSize) - bytes.count)) }
      for global in globals { write(global.value, into: &bytes, at: global.offset) }
      var key: UInt32 = 0
      let result = bytes.withUnsafeBytes { value in
        BPF.updateElement(map: fd.rawValue, key: &key, value: value.baseAddress!, flags: .any)
      }
      if case .failure(let e) = result { throw .mapCreation(map: section.name, e) }
    }
    if section.kind == .rodata {
      do { try BPF.freeze(map: fd) } catch { throw .mapCreation(map: section.name, error) }
    }
    dataMaps[section.name] = BPFMap(fileDescriptor: fd, name: section.name, type: .array, keySize: 4,
                                    valueSize: Int(valueSize), maxEntries: 1, flags: flags.rawValue)
    if flags.contains(.mmapable) {
      if let mapping = GlobalDataMapping.map(fd, valueSize: Int(valueSize), readOnly: section.kind == .rodata) {
        dataMappings[section.name] = mapping
      } else {
        notes.append("\(section.name): mmap of the mmapable map failed (\(Errno.current)); globals go through bpf(2)")
      }
    }
  }

  /// Kernel object names hold 15 bytes of `[A-Za-z0-9_.]`.
  func mapName(forSection name: String) -> String {
    var bytes = Array(name.utf8.prefix(15))
    for i in bytes.indices {
      switch bytes[i] {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
           UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."):
        break
      default: bytes[i] = UInt8(ascii: "_")
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// The size and stride in bytes of an existential bitwise-copyable value's type.
func byteCounts(of value: any BitwiseCopyable & Sendable) -> (size: Int, stride: Int) {
  func counts<T: BitwiseCopyable>(_: T) -> (Int, Int) { (MemoryLayout<T>.size, MemoryLayout<T>.stride) }
  return counts(value)
}

/// Copies the bytes of `value` into `bytes` at `offset` (which the caller checked).
func write(_ value: any BitwiseCopyable & Sendable, into bytes: inout [UInt8], at offset: Int) {
  func copy<T: BitwiseCopyable>(_ v: T) {
    withUnsafeBytes(of: v) { raw in
      for (i, b) in raw.enumerated() where offset + i < bytes.count { bytes[offset + i] = b }
    }
  }
  copy(value)
}
