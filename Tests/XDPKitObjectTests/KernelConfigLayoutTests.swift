import Testing
@testable import XDPKitObject

@Suite("The .kconfig map's layout")
struct KernelConfigLayoutTests {
  static func kconfig(_ name: String, _ type: BPFExtern.ConfigType, weak: Bool = false) -> BPFExtern {
    BPFExtern(name: name, kind: .kernelConfig(type), isWeak: weak, btfTypeID: 1)
  }

  @Test("values are laid out by alignment (largest first), then size (smallest first), then name")
  func order() throws {
    // Declaration order, as in externs_kernel.c; a kfunc in between takes no room.
    let externs = [
      Self.kconfig("LINUX_KERNEL_VERSION", .integer(size: 4, signed: false)),
      Self.kconfig("LINUX_HAS_SYSCALL_WRAPPER", .bool),
      Self.kconfig("CONFIG_BPF", .bool),
      Self.kconfig("CONFIG_HZ", .integer(size: 4, signed: true)),
      Self.kconfig("CONFIG_NR_CPUS", .integer(size: 8, signed: false)),
      BPFExtern(name: "bpf_cast_to_kern_ctx", kind: .kernelFunction(prototype: 2), isWeak: true, btfTypeID: 3),
      Self.kconfig("CONFIG_VETH", .tristate),
      Self.kconfig("CONFIG_DEFAULT_HOSTNAME", .string(capacity: 16)),
      Self.kconfig("CONFIG_XDPKIT_NO_SUCH_OPTION", .integer(size: 4, signed: true), weak: true),
    ]
    let config = KernelConfig(values: [
      "CONFIG_BPF": "y", "CONFIG_HZ": "250", "CONFIG_NR_CPUS": "64", "CONFIG_VETH": "m",
      "CONFIG_DEFAULT_HOSTNAME": "\"(none)\"",
    ])
    let data = try KernelConfigData(
      externs: externs, config: config,
      linux: ["LINUX_KERNEL_VERSION": 0x06_12_00, "LINUX_HAS_SYSCALL_WRAPPER": 1])
    #expect(data.offsets == [
      "CONFIG_NR_CPUS": 0,
      "CONFIG_HZ": 8, "CONFIG_VETH": 12, "CONFIG_XDPKIT_NO_SUCH_OPTION": 16, "LINUX_KERNEL_VERSION": 20,
      "CONFIG_BPF": 24, "LINUX_HAS_SYSCALL_WRAPPER": 25, "CONFIG_DEFAULT_HOSTNAME": 26,
    ])
    #expect(data.bytes.count == 48)
    #expect(data.bytes[0..<8] == [64, 0, 0, 0, 0, 0, 0, 0])
    #expect(data.bytes[8..<12] == [250, 0, 0, 0])
    #expect(data.bytes[12..<16] == [2, 0, 0, 0])
    #expect(data.bytes[20..<24] == [0x00, 0x12, 0x06, 0x00])
    #expect(data.bytes[24..<26] == [1, 1])
    #expect(Array(data.bytes[26..<33]) == Array("(none)\0".utf8))
  }

  @Test("a one-byte integer (char, unsigned char) takes y/n/m as the letter and a number as itself")
  func oneByteIntegers() throws {
    let externs = [
      Self.kconfig("CONFIG_A", .integer(size: 1, signed: true)),
      Self.kconfig("CONFIG_B", .integer(size: 1, signed: false)),
      Self.kconfig("CONFIG_C", .integer(size: 1, signed: true)),
      Self.kconfig("CONFIG_D", .integer(size: 1, signed: false)),
    ]
    let config = KernelConfig(values: ["CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": "-5", "CONFIG_D": "200"])
    let data = try KernelConfigData(externs: externs, config: config, linux: [:])
    #expect(data.offsets == ["CONFIG_A": 0, "CONFIG_B": 1, "CONFIG_C": 2, "CONFIG_D": 3])
    #expect(data.bytes[0..<4] == [UInt8(ascii: "y"), UInt8(ascii: "m"), 0xfb, 200])
    // 200 does not fit a signed char: refused, not wrapped to -56.
    #expect {
      try KernelConfigData(externs: [Self.kconfig("CONFIG_C", .integer(size: 1, signed: true))],
                           config: KernelConfig(values: ["CONFIG_C": "200"]), linux: [:])
    } throws: { error in
      guard case ExternError.invalidConfigValue(let name, let value, let type) = error else { return false }
      return name == "CONFIG_C" && value == "200" && type == .integer(size: 1, signed: true)
    }
  }
}
