import Foundation
import Testing
import XDPKit
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

/// `__kconfig`, `__ksym` and kfunc externs resolved against the running kernel. Every
/// expected value is read from the kernel's own facts (its configuration, /proc/kallsyms,
/// its BTF through this project's parser, uname), never hard-coded.
@Suite("Externs on the real kernel", .kernel, .serialized)
struct ExternLoadTests {
  static func kernelConfig() throws -> KernelConfig {
    try KernelConfig(text: try SystemInfo.kernelConfigurationText().get())
  }

  static func values(_ loaded: LoadedObject) throws -> [UInt64] {
    let map = try loaded.arrayMap("VALUES", value: UInt64.self)
    return try (0..<12).map { try map.value(at: UInt32($0)) }
  }

  /// KERNEL_VERSION of this kernel, computed here independently of the loader: Debian's real
  /// version is in `uname -v` ("Debian 6.1.158-1"), Ubuntu's in /proc/version_signature.
  static func expectedKernelVersion() throws -> UInt64 {
    let version = try Command.run("/usr/bin/uname", ["-v"]).standardOutput
    var text = SystemInfo.kernelRelease()
    if let signature = try? String(contentsOfFile: "/proc/version_signature", encoding: .utf8),
       let last = signature.split(whereSeparator: \.isWhitespace).last {
      text = String(last)
    } else if let range = version.range(of: "Debian ") {
      text = String(version[range.upperBound...])
    }
    let parts = text.split(whereSeparator: { !$0.isNumber }).prefix(3).compactMap { UInt64($0) }
    try #require(parts.count == 3)
    return parts[0] << 16 | parts[1] << 8 | min(parts[2], 255)
  }

  static func kallsymsAddress(_ name: String) throws -> UInt64? {
    // procfs files report size 0: read to the end rather than by size.
    let handle = try #require(FileHandle(forReadingAtPath: "/proc/kallsyms"))
    defer { try? handle.close() }
    let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count >= 3, fields[2] == name { return UInt64(fields[0], radix: 16) }
    }
    return nil
  }

  @Test("kconfig, typeless ksym and weak kfunc values match the kernel's own facts")
  func valuesMatchTheKernel() throws {
    let object = try TestFixtures.object("externs_kernel")
    let loaded = try object.load(options: LoadOptions(programs: ["xdp_externs"]))
    #expect(loaded.notes.filter { $0.contains("BTF") }.isEmpty, "\(loaded.notes)")
    let run = try loaded.program("xdp_externs").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .pass)
    let values = try Self.values(loaded)
    let config = try Self.kernelConfig()

    #expect(values[0] == (try Self.expectedKernelVersion()))
    let wrapper = try Self.kallsymsAddress("__x64_sys_bpf") != nil
    #expect(values[1] == (wrapper ? 1 : 0))
    #expect(values[2] == 1)  // CONFIG_BPF=y
    #expect(values[3] == UInt64(try #require(config.values["CONFIG_HZ"])))
    #expect(values[4] == UInt64(try #require(config.values["CONFIG_NR_CPUS"])))
    let veth = config.values["CONFIG_VETH"]
    #expect(values[5] == (veth == "y" ? 1 : veth == "m" ? 2 : 0))
    let hostname = Array(try #require(config.values["CONFIG_DEFAULT_HOSTNAME"]).utf8.dropFirst().dropLast())
    #expect(values[6] == UInt64(hostname.first ?? 0) | UInt64(hostname.count > 5 ? hostname[5] : 0) << 8)
    #expect(values[7] == 0)  // weak, not set
    #expect(values[8] == (try #require(try Self.kallsymsAddress("bpf_fentry_test1"))))
    // The weak kfunc: called where the kernel has it (6.2+), absent and never called before.
    let vmlinux = try BTF(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/sys/kernel/btf/vmlinux"))))
    let hasKfunc = vmlinux.typeID(named: "bpf_cast_to_kern_ctx", kind: .function) != nil
    #expect(values[10] == (hasKfunc ? 1 : 0))

    // The values are readable like any global, from the frozen .kconfig map.
    #expect(try loaded.global("CONFIG_HZ", as: Int32.self) == Int32(try #require(config.values["CONFIG_HZ"])))
    #expect(try loaded.global("LINUX_KERNEL_VERSION", as: UInt32.self) == UInt32(values[0]))
    #expect(throws: (any Error).self) { try loaded.setGlobal("CONFIG_HZ", to: Int32(1)) }
    // Where arrays are mmapable the frozen .kconfig map is mmapped read-only: its values are
    // memory reads, the same values.
    #expect(try loaded.isMapped(section: ".kconfig") == KernelFeatures.mmapableArrays.isSupported)
    #expect(try loaded.dataMap(".kconfig").flags & (1 << 10) == (KernelFeatures.mmapableArrays.isSupported ? 1 << 10 : 0))
    #expect(try loaded.withGlobalPointer("CONFIG_HZ", as: Int32.self) { $0.pointee }
            == (KernelFeatures.mmapableArrays.isSupported ? Int32(try #require(config.values["CONFIG_HZ"])) : nil))
  }

  @Test("a typed ksym loads where the kernel can find data symbols, else the verifier says it cannot")
  func typedKernelVariable() throws {
    let object = try TestFixtures.object("externs_kernel")
    let options = LoadOptions(programs: ["xdp_typed_ksym"])
    if try Self.kernelConfig().values["CONFIG_KALLSYMS_ALL"] == "y" {
      let loaded = try object.load(options: options)
      _ = try loaded.program("xdp_typed_ksym").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
      #expect(try Self.values(loaded)[9] == 1)
    } else {
      #expect {
        _ = try object.load(options: options)
      } throws: { error in
        guard case LoadError.program("xdp_typed_ksym", _) = error else { return false }
        return (error as? LoadError)?.verifierLog?.contains("failed to find the address for kernel symbol 'bpf_prog_active'") == true
      }
    }
  }

  @Test("a configuration file given in the options, plain or gzip'd; a missing non-weak option is an error naming it")
  func configurationFromOptions() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-kconfig-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let text = """
      # Automatically generated file; DO NOT EDIT.
      CONFIG_BPF=y
      CONFIG_HZ=1000
      CONFIG_NR_CPUS=0x40
      CONFIG_VETH=m
      CONFIG_DEFAULT_HOSTNAME="abcdefgh"
      # CONFIG_XDPKIT_NO_SUCH_OPTION is not set

      """
    let plain = directory.appendingPathComponent("config")
    try text.write(to: plain, atomically: true, encoding: .utf8)
    let gzip = try Command.run("/bin/gzip", ["-k", "-9", plain.path])
    try #require(gzip.succeeded, "\(gzip.standardError)")
    let object = try TestFixtures.object("externs_kernel")
    for path in [plain.path, plain.path + ".gz"] {
      var options = LoadOptions(programs: ["xdp_externs"])
      options.kernelConfigPath = path
      let loaded = try object.load(options: options)
      _ = try loaded.program("xdp_externs").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
      let values = try Self.values(loaded)
      #expect(values[2] == 1)
      #expect(values[3] == 1000)
      #expect(values[4] == 64)
      #expect(values[5] == 2)
      #expect(values[6] == UInt64(UInt8(ascii: "a")) | UInt64(UInt8(ascii: "f")) << 8)
    }

    try text.replacingOccurrences(of: "CONFIG_HZ=1000\n", with: "").write(to: plain, atomically: true, encoding: .utf8)
    var options = LoadOptions(programs: ["xdp_externs"])
    options.kernelConfigPath = plain.path
    #expect {
      _ = try object.load(options: options)
    } throws: { error in
      guard case LoadError.unresolvedExtern(.missingConfigValue(let name)) = error else { return false }
      return name == "CONFIG_HZ"
    }

    try text.replacingOccurrences(of: "CONFIG_HZ=1000", with: "CONFIG_HZ=y").write(to: plain, atomically: true, encoding: .utf8)
    #expect {
      _ = try object.load(options: options)
    } throws: { error in
      guard case LoadError.unresolvedExtern(.invalidConfigValue(let name, let value, let type)) = error else { return false }
      return name == "CONFIG_HZ" && value == "y" && type == .integer(size: 4, signed: true)
    }
  }

  /// Where the kernel has the conntrack kfuncs: vmlinux (CONFIG_NF_CONNTRACK=y) or the
  /// nf_conntrack module (=m), loaded here if it is not yet, as a user's program needs it.
  static func conntrackKfuncLocation() throws -> String? {
    let vmlinux = try BTF(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: KernelBTF.vmlinuxPath))))
    if vmlinux.typeID(named: "bpf_xdp_ct_lookup", kind: .function) != nil { return "vmlinux" }
    let modulePath = "/sys/kernel/btf/nf_conntrack"
    if !FileManager.default.fileExists(atPath: modulePath) {
      _ = try? Command.run("/sbin/modprobe", ["nf_conntrack"])
    }
    guard FileManager.default.fileExists(atPath: modulePath) else { return nil }
    let module = try BTF(splitBytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: modulePath))), base: vmlinux)
    return module.typeID(named: "bpf_xdp_ct_lookup", kind: .function) != nil ? "nf_conntrack" : nil
  }

  @Test("a kfunc found in vmlinux or in a module's BTF is called: the module's BTF goes in fd_array")
  func moduleKfunc() throws {
    let object = try TestFixtures.object("externs_module")
    let location = try Self.conntrackKfuncLocation()
    guard let location else {
      // A kernel without conntrack kfuncs: the error names the kfunc and where it looked.
      #expect {
        _ = try object.load()
      } throws: { error in
        guard case LoadError.unresolvedExtern(.missingKernelSymbol(let name, let place)) = error else { return false }
        return name == "bpf_xdp_ct_lookup" && place.contains("loaded module(s)")
      }
      return
    }
    let loaded = try object.load()
    let moduleNotes = loaded.notes.filter { $0.contains("resolved in the BTF of module") }
    if location == "vmlinux" {
      #expect(moduleNotes.isEmpty, "\(loaded.notes)")
    } else {
      #expect(Set(moduleNotes) == [
        "extern bpf_xdp_ct_lookup resolved in the BTF of module nf_conntrack",
        "extern bpf_ct_release resolved in the BTF of module nf_conntrack",
      ], "\(loaded.notes)")
    }
    let run = try loaded.program("xdp_ct_lookup").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .pass)
    // No such flow: the lookup returned NULL and set -ENOENT.
    #expect(try loaded.global("lookup_found", as: UInt32.self) == 0)
    #expect(try loaded.global("lookup_error", as: Int32.self) == -ENOENT)
  }
}
