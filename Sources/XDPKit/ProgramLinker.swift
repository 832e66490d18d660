import XDPKitObject

/// A program's final instruction stream: the entry function followed by every function it
/// calls (directly or through other functions), with calls and map/data references fixed up,
/// plus the func_info/line_info records rebased onto the new instruction indices.
struct LinkedProgram {
  var instructions: [BPFInstruction]
  /// (instruction index, FUNC type id) pairs, ascending.
  var functionInfo: [(index: UInt32, typeID: UInt32)]
  /// Line records with their instruction index rebased.
  var lineInfo: [LinkedLineInfo]
  /// The functions laid out, with their first instruction index.
  var layout: [(function: BPFFunction, start: Int)]
  /// The CO-RE relocations of the laid-out functions, by final instruction index.
  var coreRelocations: [PlacedCORERelocation] = []
}

/// A line_info record of a linked program: the words of `struct bpf_line_info`, with the
/// instruction index rebased.
struct LinkedLineInfo {
  var index: UInt32
  var fileNameOffset: UInt32
  var lineOffset: UInt32
  var lineColumn: UInt32
}

/// A CO-RE relocation record placed in a linked program.
struct PlacedCORERelocation {
  /// Index of the relocated instruction in the linked program.
  var instruction: Int
  /// Position among the CO-RE records of its ELF section, from 0.
  var number: Int
  /// The record.
  var record: BTFExt.CORERelocation
  /// Set once the relocation was poisoned: why it could not be resolved.
  var unresolvedReason: String? = nil
}

/// Resolves the kernel side of a map or data relocation: the fd to put in the instruction.
struct RelocationResolver {
  var mapFD: (String) -> Int32?
  var dataFD: (String) -> Int32?
  /// How an extern is rewritten; `nil` for one that was not resolved.
  var extern: (String) -> ExternValue? = { _ in nil }
  /// The extern's index, for poisoned calls.
  var externIndex: (String) -> Int = { _ in 0 }
  /// A kernel module's BTF: its `fd_array` slot (for kfunc calls) and descriptor number (for
  /// `__ksym` variables); `nil` for a module whose BTF is not open.
  var moduleBTF: (String) -> (slot: Int, descriptor: Int32)? = { _ in nil }
}

/// Lays out and relocates programs. Pure: it sees file descriptors only as numbers.
struct ProgramLinker {
  let object: BPFObject
  /// Relocations by section index, each list sorted by byte offset: a function's are found by
  /// binary search and then walked alongside its instructions (no hashing per instruction).
  private let relocationsBySection: [Int: [BPFRelocation]]
  /// Whether any function is a cold fragment of another (most objects have none).
  private let hasFragments: Bool

  init(object: BPFObject) {
    self.object = object
    var table: [Int: [BPFRelocation]] = [:]
    for section in object.relocations where !section.entries.isEmpty {
      table[section.targetSectionIndex, default: []] += section.entries
    }
    // clang writes them in order; sort only a list that is not.
    for (index, entries) in table
    where !entries.indices.dropFirst().allSatisfy({ entries[$0 - 1].offset <= entries[$0].offset }) {
      table[index] = entries.sorted { $0.offset < $1.offset }
    }
    relocationsBySection = table
    hasFragments = object.functions.contains { $0.fragmentOf != nil }
  }

  /// The index of the first of `relocations` (sorted by offset) at or after `offset`.
  private static func firstRelocation(in relocations: [BPFRelocation], atOrAfter offset: UInt64) -> Int {
    var low = 0, high = relocations.count
    while low < high {
      let middle = (low + high) / 2
      if relocations[middle].offset < offset { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// The function of `section` that contains byte `offset`.
  private func function(in section: Int, containing offset: Int64) -> BPFFunction? {
    object.functions.first {
      $0.sectionIndex == section && Int64($0.offset) <= offset && offset < Int64($0.offset + $0.size)
    }
  }

  func link(_ program: BPFProgram, resolver: RelocationResolver) throws(LoadError) -> LinkedProgram {
    let name = program.name
    var layout: [(function: BPFFunction, start: Int)] = []
    var total = 0
    // A function goes in with its cold fragments right behind it, before any callee: the
    // kernel takes everything up to the next subprogram's start as one subprogram, and the
    // jumps between a function and its fragments must stay inside that subprogram.
    func place(_ function: BPFFunction) {
      layout.append((function, total))
      total += function.instructionCount
      guard hasFragments else { return }
      for part in object.fragments(of: function) {
        layout.append((part, total))
        total += part.instructionCount
      }
    }
    place(program.function)
    // (instruction index in the final stream, absolute target index) for calls and
    // function-address loads, filled in after layout.
    var branchFixups: [(at: Int, target: Int)] = []
    var instructions: [BPFInstruction] = []
    instructions.reserveCapacity(total)

    var next = 0
    while next < layout.count {
      let (function, start) = layout[next]
      next += 1
      var code = function.instructions
      let relocations = relocationsBySection[function.sectionIndex] ?? []
      var nextRelocation = Self.firstRelocation(in: relocations, atOrAfter: function.offset)
      var i = 0
      while i < code.count {
        let insn = code[i]
        let sectionOffset = function.offset + UInt64(i * 8)
        // Relocations are sorted and instructions visited in order: skip any that fell
        // between slots (the second half of an ld_imm64), then take the one here, if any.
        while nextRelocation < relocations.count && relocations[nextRelocation].offset < sectionOffset {
          nextRelocation += 1
        }
        // An index, not a copy: most instructions have no relocation, and an optional
        // relocation (names and all) would be made and destroyed for each of them.
        var relocationIndex = -1
        while nextRelocation < relocations.count && relocations[nextRelocation].offset == sectionOffset {
          relocationIndex = nextRelocation  // of several for one slot, the last (as before)
          nextRelocation += 1
        }
        let isLoad64 = insn.isLoadImmediate64

        // Where a call or function reference goes, as (section, byte offset).
        var branchTarget: (section: Int, offset: Int64)? = nil
        if relocationIndex >= 0 {
          switch relocations[relocationIndex].target {
          case .map(let mapName):
            guard isLoad64, i + 1 < code.count, let fd = resolver.mapFD(mapName) else {
              throw .relocation(program: name, offset: sectionOffset, reason: "map \(mapName) is not loaded")
            }
            code[i].source = BPFInstruction.pseudoMapFD
            code[i].immediate = fd
            code[i + 1].immediate = 0
          case .data(let section, let offset, _):
            guard isLoad64, i + 1 < code.count, let fd = resolver.dataFD(section) else {
              throw .relocation(program: name, offset: sectionOffset, reason: "data section \(section) is not loaded")
            }
            guard let off32 = Int32(exactly: offset), off32 >= 0 else {
              throw .relocation(program: name, offset: sectionOffset, reason: "data offset \(offset) out of range")
            }
            code[i].source = BPFInstruction.pseudoMapValue
            code[i].immediate = fd
            code[i + 1].immediate = off32
          case .call(let section, let offset):
            guard insn.isPseudoCall else {
              throw .relocation(program: name, offset: sectionOffset,
                                reason: "call relocation on an instruction that is not a BPF-to-BPF call")
            }
            branchTarget = (section, offset)
          case .functionAddress(let section, let offset):
            guard isLoad64 else {
              throw .relocation(program: name, offset: sectionOffset, reason: "function address outside ld_imm64")
            }
            code[i].source = BPFInstruction.pseudoFunc
            branchTarget = (section, offset)
          case .external(let symbol):
            try Self.rewriteExtern(symbol, in: &code, at: i, resolver: resolver, program: name, offset: sectionOffset)
          case .sectionData:
            throw .relocation(program: name, offset: sectionOffset, reason: "unexpected data relocation in code")
          }
        } else if insn.isPseudoCall {
          // A call inside the same section that clang resolved itself: imm is relative.
          branchTarget = (function.sectionIndex, Int64(sectionOffset) + (Int64(insn.immediate) + 1) * 8)
        } else if isLoad64 && insn.source == BPFInstruction.pseudoFunc {
          branchTarget = (function.sectionIndex, Int64(sectionOffset) + (Int64(insn.immediate) + 1) * 8)
        }

        if let jump = insn.jumpDisplacement, !(0..<code.count).contains(i + 1 + jump) {
          code[i] = try retargetedJump(
            code[i], displacement: jump, at: i, of: function, start: start, layout: layout, program: name)
        }

        if let target = branchTarget {
          guard let callee = self.function(in: target.section, containing: target.offset) else {
            throw .relocation(program: name, offset: sectionOffset,
                              reason: "call target section \(target.section) offset \(target.offset) is not inside any function")
          }
          let calleeStart: Int
          if let placed = layout.first(where: { $0.function.sectionIndex == callee.sectionIndex && $0.function.offset == callee.offset }) {
            calleeStart = placed.start
          } else {
            calleeStart = total
            place(callee)
          }
          // Calls must land on a function's first instruction (each callee is verified as a
          // subprogram with its own func_info); function addresses on an instruction boundary.
          let distance = target.offset - Int64(callee.offset)
          guard distance % 8 == 0, insn.opcode != BPFInstruction.callOpcode || distance == 0 else {
            throw .relocation(program: name, offset: sectionOffset,
                              reason: "call target \(target.offset) in section \(target.section) is not the start of function \(callee.name)")
          }
          let within = Int(distance / 8)
          branchFixups.append((start + i, calleeStart + within))
        }
        i += isLoad64 ? 2 : 1
      }
      instructions.append(contentsOf: code)
    }

    for fix in branchFixups {
      let relative = fix.target - (fix.at + 1)
      guard let imm = Int32(exactly: relative) else {
        throw .relocation(program: name, offset: UInt64(fix.at * 8), reason: "call distance \(relative) too large")
      }
      instructions[fix.at].immediate = imm
    }

    // func_info / line_info / CO-RE records, rebased per function. Records are read in place
    // (by index) and only the words the kernel takes are kept: no copy of a record per
    // instruction.
    var functionInfo: [(index: UInt32, typeID: UInt32)] = []
    var lineInfo: [LinkedLineInfo] = []
    var core: [PlacedCORERelocation] = []
    if let ext = object.btfExt {
      // At most a record of each kind per instruction: no regrowing while records are added.
      functionInfo.reserveCapacity(layout.count)
      lineInfo.reserveCapacity(total)
      for placed in layout.indices {
        let start = layout[placed].start
        let lower = layout[placed].function.offset, upper = lower + layout[placed].function.size
        let section = layout[placed].function.sectionName
        ext.forEachRecord(.coreRelocations, inSection: section) { number, raw in
          let off = UInt64(raw.insnOffset)
          if off >= lower && off < upper {
            core.append(PlacedCORERelocation(
              instruction: start + Int((off - lower) / 8), number: number, record: ext.coreRelocation(raw)))
          }
        }
        // A fragment is part of its parent's subprogram: a FUNC record at its start would
        // make the kernel take it for a subprogram of its own.
        if layout[placed].function.fragmentOf == nil {
          ext.forEachRecord(.funcInfo, inSection: section) { _, raw in
            let off = UInt64(raw.insnOffset)
            if off >= lower && off < upper {
              functionInfo.append((UInt32(start) + UInt32((off - lower) / 8), raw.word1))
            }
          }
        }
        ext.forEachRecord(.lineInfo, inSection: section) { _, raw in
          let off = UInt64(raw.insnOffset)
          if off >= lower && off < upper {
            lineInfo.append(LinkedLineInfo(
              index: UInt32(start) + UInt32((off - lower) / 8), fileNameOffset: raw.word1,
              lineOffset: raw.word2, lineColumn: raw.word3))
          }
        }
      }
    }
    return LinkedProgram(instructions: instructions, functionInfo: functionInfo, lineInfo: lineInfo,
                         layout: layout, coreRelocations: core)
  }
}

extension ProgramLinker {
  /// `jump` (at index `i` of `function`, laid out from `start`) with its displacement changed
  /// to reach, in the linked program, the instruction it reaches in the section: one in
  /// another function that is laid out too (a function's cold fragment, or the function a
  /// fragment jumps back into).
  private func retargetedJump(
    _ jump: BPFInstruction, displacement: Int, at i: Int, of function: BPFFunction, start: Int,
    layout: [(function: BPFFunction, start: Int)], program: String
  ) throws(LoadError) -> BPFInstruction {
    let sectionOffset = function.offset + UInt64(i * 8)
    let target = Int64(function.offset) + Int64(i + 1 + displacement) * 8
    guard let placed = layout.first(where: {
      $0.function.sectionIndex == function.sectionIndex
        && Int64($0.function.offset) <= target && target < Int64($0.function.offset + $0.function.size)
    }) else {
      let into = self.function(in: function.sectionIndex, containing: target)
      throw .relocation(
        program: program, offset: sectionOffset,
        reason: "jump at instruction \(i) of \(function.name) leaves it for "
          + (into.map { "\($0.name), which is neither its fragment nor its parent" }
            ?? "section offset \(target), outside every function"))
    }
    let destination = placed.start + Int((target - Int64(placed.function.offset)) / 8)
    let relative = destination - (start + i + 1)
    var result = jump
    if jump.usesImmediateDisplacement {
      guard let imm = Int32(exactly: relative) else {
        throw .relocation(program: program, offset: sectionOffset, reason: "jump distance \(relative) too large")
      }
      result.immediate = imm
    } else {
      guard let off = Int16(exactly: relative) else {
        throw .relocation(program: program, offset: sectionOffset,
                          reason: "jump distance \(relative) does not fit a 16-bit offset")
      }
      result.offset = off
    }
    return result
  }
}

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

extension BPFInstruction {
  /// For a jump (conditional or not, in the JMP or JMP32 class; not a call or exit), how many
  /// instructions after the next one it goes to; `nil` for other instructions.
  var jumpDisplacement: Int? {
    let instructionClass = opcode & 0x07, operation = opcode & 0xf0
    guard instructionClass == 0x05 || instructionClass == 0x06, operation != 0x80, operation != 0x90 else {
      return nil
    }
    return usesImmediateDisplacement ? Int(immediate) : Int(offset)
  }

  /// `gotol` (BPF_JMP32 | BPF_JA) keeps its displacement in the immediate.
  var usesImmediateDisplacement: Bool { opcode == 0x06 }

  /// The instruction as the little-endian 64-bit word the kernel reads.
  var word: UInt64 {
    UInt64(opcode) | UInt64((source << 4) | (destination & 0x0f)) << 8
      | UInt64(UInt16(bitPattern: offset)) << 16 | UInt64(UInt32(bitPattern: immediate)) << 32
  }
}
