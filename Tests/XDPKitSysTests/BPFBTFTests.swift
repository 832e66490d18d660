import CXDPKit
import SystemPackage
import Testing
import XDPKitObject
import XDPKitTestSupport

@testable import XDPKitSys

/// A minimal BTF blob: the header, one `int` type (signed, 32 bits), and its string table.
enum MinimalBTF {
  static func bytes(nameOffset: UInt32 = 1) -> [UInt8] {
    let strings: [UInt8] = [0] + Array("int".utf8) + [0]
    var type = btf_type()
    type.name_off = nameOffset
    type.info = UInt32(BTF_KIND_INT) << 24
    type.size = 4
    let encoding: UInt32 = UInt32(BTF_INT_SIGNED) << 24 | 32
    let typeLength = MemoryLayout<btf_type>.size + MemoryLayout<UInt32>.size

    var header = btf_header()
    header.magic = UInt16(BTF_MAGIC)
    header.version = UInt8(BTF_VERSION)
    header.flags = 0
    header.hdr_len = UInt32(MemoryLayout<btf_header>.size)
    header.type_off = 0
    header.type_len = UInt32(typeLength)
    header.str_off = UInt32(typeLength)
    header.str_len = UInt32(strings.count)

    var bytes: [UInt8] = []
    withUnsafeBytes(of: header) { bytes += $0 }
    withUnsafeBytes(of: type) { bytes += $0 }
    withUnsafeBytes(of: encoding) { bytes += $0 }
    return bytes + strings
  }
}

@Suite("bpf(2) BTF commands", .kernel)
struct BPFBTFTests {
  @Test("load a one-type BTF blob; info reports its id and size")
  func loadMinimal() throws {
    let blob = MinimalBTF.bytes()
    let btf = try BPF.loadBTFCapturingLog(blob)
    let info = try BPF.btfInfo(btf)
    #expect(info.id > 0)
    #expect(info.size == blob.count)
    #expect(info.name == "")
    #expect(!info.isKernelBTF)
    #expect(try BPF.allBTFIDs().contains(info.id))
    let reopened = try BPF.openBTF(id: info.id)
    #expect(try BPF.btfInfo(reopened) == info)
  }

  @Test("a map created with BTF reports its BTF id")
  func mapWithBTF() throws {
    let btf = try BPF.loadBTFCapturingLog(MinimalBTF.bytes())
    var attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "xdpkit_btf")
    attributes.btf = btf
    attributes.btfKeyTypeID = 1
    attributes.btfValueTypeID = 1
    let map = try BPF.createMap(attributes)
    let info = try BPF.mapInfo(map)
    #expect(info.btfID == (try BPF.btfInfo(btf)).id)
    #expect(info.btfKeyTypeID == 1)
    #expect(info.btfValueTypeID == 1)
  }

  @Test("BTF the kernel refuses: the error carries the checker's log")
  func refused() throws {
    let error = #expect(throws: BTFLoadError.self) {
      _ = try BPF.loadBTFCapturingLog(MinimalBTF.bytes(nameOffset: 1000))
    }
    #expect(error?.syscall.command == .btfLoad)
    #expect(error?.syscall.errno == .invalidArgument)
    #expect(error?.log.isEmpty == false)
    #expect(error?.log.contains("name_offset") == true)
  }

  @Test("the kernel's own BTF is listed, named vmlinux")
  func vmlinux() throws {
    var found = false
    for id in try BPF.allBTFIDs() {
      guard let fd = try? BPF.openBTF(id: id) else { continue }  // may vanish meanwhile
      let info = try BPF.btfInfo(fd)
      if info.name == "vmlinux" {
        #expect(info.isKernelBTF)
        #expect(info.size > 1024)
        found = true
        break
      }
    }
    #expect(found)
  }
}
