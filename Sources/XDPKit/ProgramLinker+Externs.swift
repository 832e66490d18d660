import XDPKitObject

// How the linker rewrites references to externs: kfunc calls, kernel variables by BTF id,
// `__kconfig` values and `__ksym` addresses.

extension ProgramLinker {
  /// BPF_PSEUDO_BTF_ID: an ld_imm64 of a kernel variable (or kfunc address) by BTF id.
  static let pseudoBTFID: UInt8 = 3

  /// Rewrites a call to a kfunc or an ld_imm64 of a `__kconfig`/`__ksym` extern at `i`.
  static func rewriteExtern(
    _ symbol: String, in code: inout [BPFInstruction], at i: Int, resolver: RelocationResolver,
    program: String, offset: UInt64
  ) throws(LoadError) {
    guard let value = resolver.extern(symbol) else {
      throw .relocation(program: program, offset: offset, reason: "extern '\(symbol)' was not resolved")
    }
    let insn = code[i]
    if insn.opcode == BPFInstruction.callOpcode {
      switch value {
      case .btfID(let id, let module):
        code[i].source = BPFInstruction.pseudoKfuncCall
        code[i].immediate = Int32(bitPattern: id)
        // The call's offset picks the BTF: 0 is vmlinux, N the module BTF in fd_array[N].
        code[i].offset = try Int16(moduleBTF(module, resolver: resolver, symbol: symbol, program: program, offset: offset)?.slot ?? 0)
      case .absent:
        // A helper call with an id no kernel has: fine in dead code, an error if reached.
        code[i].source = 0
        code[i].immediate = poisonedKfuncCallBase + Int32(resolver.externIndex(symbol))
        code[i].offset = 0
      case .configValue, .address:
        throw .relocation(program: program, offset: offset, reason: "call to '\(symbol)', which is a variable, not a kfunc")
      }
      return
    }
    guard insn.isLoadImmediate64, i + 1 < code.count else {
      throw .relocation(program: program, offset: offset, reason: "extern '\(symbol)' referenced outside ld_imm64 and call")
    }
    switch value {
    case .configValue(let at):
      guard let fd = resolver.dataFD(".kconfig") else {
        throw .relocation(program: program, offset: offset, reason: "the .kconfig map for '\(symbol)' is not loaded")
      }
      code[i].source = BPFInstruction.pseudoMapValue
      code[i].immediate = fd
      code[i + 1].immediate = Int32(at)
    case .btfID(let id, let module):
      code[i].source = pseudoBTFID
      code[i].immediate = Int32(bitPattern: id)
      // The second half holds the module BTF's descriptor itself; 0 is vmlinux.
      code[i + 1].immediate = try moduleBTF(module, resolver: resolver, symbol: symbol, program: program, offset: offset)?.descriptor ?? 0
    case .address(let address):
      code[i].source = 0
      code[i].immediate = Int32(bitPattern: UInt32(truncatingIfNeeded: address))
      code[i + 1].immediate = Int32(bitPattern: UInt32(truncatingIfNeeded: address >> 32))
    case .absent:
      code[i].source = 0
      code[i].immediate = 0
      code[i + 1].immediate = 0
    }
  }
}

extension ProgramLinker {
  /// The open BTF of `module` (`nil` for vmlinux).
  static func moduleBTF(
    _ module: String?, resolver: RelocationResolver, symbol: String, program: String, offset: UInt64
  ) throws(LoadError) -> (slot: Int, descriptor: Int32)? {
    guard let module else { return nil }
    guard let found = resolver.moduleBTF(module), found.slot <= Int(Int16.max) else {
      throw .relocation(program: program, offset: offset, reason: "extern '\(symbol)' is in module \(module), whose BTF is not open")
    }
    return found
  }
}
