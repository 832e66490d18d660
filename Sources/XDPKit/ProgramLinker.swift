import XDPKitObject

/// A program's final instruction stream: the entry function followed by every function it
/// calls (directly or through other functions), with calls and map/data references fixed up,
/// plus the func_info/line_info records rebased onto the new instruction indices.
struct LinkedProgram {
  /// The instructions as little-endian 64-bit words (``BPFInstruction/word``).
  var instructions: [UInt64]
  /// `struct bpf_func_info` records (instruction index, FUNC type id) as little-endian
  /// words, ascending.
  var functionInfo: [UInt32]
  /// `struct bpf_line_info` records with their instruction index rebased, as little-endian
  /// words.
  var lineInfo: [UInt32]
  /// The functions laid out, with their first instruction index.
  var layout: [(function: BPFFunction, start: Int)]
  /// The CO-RE relocations of the laid-out functions, by final instruction index.
  var coreRelocations: [PlacedCORERelocation] = []
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
      // Shared, not copied, when a section has one relocation section (as it always has).
      if let earlier = table[section.targetSectionIndex] {
        table[section.targetSectionIndex] = earlier + section.entries
      } else {
        table[section.targetSectionIndex] = section.entries
      }
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
    // The program as the kernel takes it: little-endian 64-bit instruction words, each
    // function's copied in whole and then patched where it needs it. Only the few
    // instructions that change are decoded.
    var words: [UInt64] = []
    words.reserveCapacity(total)

    // (caller, callee) layout indices of every call and function reference, in the order
    // met: the call graph, for laying the functions out depth first afterwards.
    var calls: [(caller: Int, callee: Int)] = []
    var next = 0
    while next < layout.count {
      let current = next
      let (function, start) = layout[next]
      next += 1
      let count = function.instructionCount
      // One copy of the bytes (the words are little-endian in the file and in memory here),
      // then a byte swap only on a big-endian host.
      words.append(contentsOf: repeatElement(0, count: count))
      words.withUnsafeMutableBytes { output in
        function.bytes.withUnsafeBytes { raw in
          UnsafeMutableRawBufferPointer(rebasing: output[(start * 8)..<((start + count) * 8)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 8)]))
        }
      }
      #if _endian(big)
      for k in start..<(start + count) { words[k] = UInt64(littleEndian: words[k]) }
      #endif
      let relocations = relocationsBySection[function.sectionIndex] ?? []
      var nextRelocation = Self.firstRelocation(in: relocations, atOrAfter: function.offset)
      // The offset of the next relocation not yet reached: one comparison per instruction.
      var nextRelocationOffset = nextRelocation < relocations.count ? relocations[nextRelocation].offset : .max
      // Through the buffer: no bounds or uniqueness check per instruction.
      try words.withUnsafeMutableBufferPointer { (code: inout UnsafeMutableBufferPointer<UInt64>) throws(LoadError) in
        var i = 0
        while i < count {
          // First, in a loop of its own, past plain instructions (no jump, call, exit or
          // ld_imm64) before the next relocation's slot: most of a program, and they need
          // nothing.
          let relocationSlot = nextRelocationOffset == .max
            ? count : Int(clamping: (nextRelocationOffset - function.offset + 7) / 8)
          while i < count && i < relocationSlot {
            let opcode = UInt8(truncatingIfNeeded: code[start &+ i])
            let instructionClass = opcode & 0x07
            if instructionClass == 0x05 || instructionClass == 0x06 || opcode == BPFInstruction.loadImmediate64Opcode {
              break
            }
            i &+= 1
          }
          guard i < count else { break }
          // i < count, and start + count and the function's end offset were checked when it
          // was read: wrapping arithmetic cannot wrap here, and skips the overflow checks.
          let word = code[start &+ i]
          let opcode = UInt8(truncatingIfNeeded: word)
          let isLoad64 = opcode == BPFInstruction.loadImmediate64Opcode
          let sectionOffset = function.offset &+ UInt64(truncatingIfNeeded: i &* 8)
          // Relocations are sorted and instructions visited in order: skip any that fell
          // between slots (the second half of an ld_imm64), then take the one here, if any.
          // An index, not a copy: most instructions have no relocation.
          var relocationIndex = -1
          if sectionOffset >= nextRelocationOffset {
            while nextRelocation < relocations.count && relocations[nextRelocation].offset < sectionOffset {
              nextRelocation += 1
            }
            while nextRelocation < relocations.count && relocations[nextRelocation].offset == sectionOffset {
              relocationIndex = nextRelocation  // of several for one slot, the last
              nextRelocation += 1
            }
            nextRelocationOffset = nextRelocation < relocations.count ? relocations[nextRelocation].offset : .max
          }
          // Most instructions are neither relocated, nor calls, nor ld_imm64, nor jumps.
          let instructionClass = opcode & 0x07
          guard relocationIndex >= 0 || isLoad64 || instructionClass == 0x05 || instructionClass == 0x06 else {
            i &+= 1
            continue
          }
          let source = UInt8(truncatingIfNeeded: word >> 12) & 0x0f
          let isPseudoCall = opcode == BPFInstruction.callOpcode && source == BPFInstruction.pseudoCall
          // A jump (not a call or exit) that leaves the function, to be retargeted.
          let jump = Self.jumpDisplacement(of: word)
          let leavingJump = jump.map { !(0..<count).contains(i + 1 + $0) } ?? false
          // Unrelocated helper calls, exits and jumps that stay in the function (most of the
          // rest) need nothing either.
          if relocationIndex < 0 && !isLoad64 && !isPseudoCall && !leavingJump {
            i &+= 1
            continue
          }
          let hasSecondHalf = isLoad64 && i + 1 < count

          // Where a call or function reference goes, as (section, byte offset).
          var branchTarget: (section: Int, offset: Int64)? = nil
          if relocationIndex >= 0 {
            switch relocations[relocationIndex].target {
            case .map(let mapName):
              guard hasSecondHalf, let fd = resolver.mapFD(mapName) else {
                throw .relocation(program: name, offset: sectionOffset, reason: "map \(mapName) is not loaded")
              }
              code[start + i] = Self.settingSource(BPFInstruction.pseudoMapFD, immediate: fd, in: word)
              code[start + i + 1] = Self.settingImmediate(0, in: code[start + i + 1])
            case .data(let section, let offset, _):
              guard hasSecondHalf, let fd = resolver.dataFD(section) else {
                throw .relocation(program: name, offset: sectionOffset, reason: "data section \(section) is not loaded")
              }
              guard let off32 = Int32(exactly: offset), off32 >= 0 else {
                throw .relocation(program: name, offset: sectionOffset, reason: "data offset \(offset) out of range")
              }
              code[start + i] = Self.settingSource(BPFInstruction.pseudoMapValue, immediate: fd, in: word)
              code[start + i + 1] = Self.settingImmediate(off32, in: code[start + i + 1])
            case .call(let section, let offset):
              guard isPseudoCall else {
                throw .relocation(program: name, offset: sectionOffset,
                                  reason: "call relocation on an instruction that is not a BPF-to-BPF call")
              }
              branchTarget = (section, offset)
            case .functionAddress(let section, let offset):
              guard isLoad64 else {
                throw .relocation(program: name, offset: sectionOffset, reason: "function address outside ld_imm64")
              }
              code[start + i] = Self.settingSource(BPFInstruction.pseudoFunc, in: word)
              branchTarget = (section, offset)
            case .external(let symbol):
              // Rare: decoded, rewritten and encoded again.
              var pair = [BPFInstruction(word: word)]
              if hasSecondHalf { pair.append(BPFInstruction(word: code[start + i + 1])) }
              try Self.rewriteExtern(symbol, in: &pair, at: 0, resolver: resolver, program: name, offset: sectionOffset)
              for (k, instruction) in pair.enumerated() { code[start + i + k] = instruction.word }
            case .sectionData:
              throw .relocation(program: name, offset: sectionOffset, reason: "unexpected data relocation in code")
            }
          } else if isPseudoCall || (isLoad64 && source == BPFInstruction.pseudoFunc) {
            // A call (or function address) inside the same section that clang resolved itself:
            // imm is relative.
            let immediate = Int64(Int32(truncatingIfNeeded: word >> 32))
            branchTarget = (function.sectionIndex, Int64(sectionOffset) + (immediate + 1) * 8)
          }

          if leavingJump, let jump {
            code[start + i] = try retargetedJump(
              BPFInstruction(word: word), displacement: jump, at: i, of: function, start: start, layout: layout,
              program: name).word
          }

          if let target = branchTarget {
            guard let callee = self.function(in: target.section, containing: target.offset) else {
              throw .relocation(program: name, offset: sectionOffset,
                                reason: "call target section \(target.section) offset \(target.offset) is not inside any function")
            }
            let calleeStart: Int
            if let placed = layout.firstIndex(where: { $0.function.sectionIndex == callee.sectionIndex && $0.function.offset == callee.offset }) {
              calleeStart = layout[placed].start
              calls.append((current, placed))
            } else {
              calleeStart = total
              calls.append((current, layout.count))
              place(callee)
            }
            // Calls must land on a function's first instruction (each callee is verified as a
            // subprogram with its own func_info); function addresses on an instruction boundary.
            let distance = target.offset - Int64(callee.offset)
            guard distance % 8 == 0, opcode != BPFInstruction.callOpcode || distance == 0 else {
              throw .relocation(program: name, offset: sectionOffset,
                                reason: "call target \(target.offset) in section \(target.section) is not the start of function \(callee.name)")
            }
            let within = Int(distance / 8)
            branchFixups.append((start + i, calleeStart + within))
          }
          i += isLoad64 ? 2 : 1
        }
      }
    }

    if layout.count > 2 { Self.layOutDepthFirst(&layout, words: &words, branchFixups: &branchFixups, calls: calls) }

    for fix in branchFixups {
      let relative = fix.target - (fix.at + 1)
      guard let imm = Int32(exactly: relative) else {
        throw .relocation(program: name, offset: UInt64(fix.at * 8), reason: "call distance \(relative) too large")
      }
      words[fix.at] = Self.settingImmediate(imm, in: words[fix.at])
    }

    // func_info / line_info / CO-RE records, rebased per function. func_info and line_info
    // records are read in place and written as the kernel's records, word by word: nothing
    // is decoded.
    var functionInfo: [UInt32] = []
    var lineInfo: [UInt32] = []
    var core: [PlacedCORERelocation] = []
    if let ext = object.btfExt {
      for placed in layout.indices {
        let start = UInt32(truncatingIfNeeded: layout[placed].start)
        let lower = layout[placed].function.offset, upper = lower + layout[placed].function.size
        let section = layout[placed].function.sectionName
        if ext.recordCounts.coreRelocations > 0 {
          ext.forEachRecord(.coreRelocations, inSection: section) { number, raw in
            let off = UInt64(raw.insnOffset)
            if off >= lower && off < upper {
              core.append(PlacedCORERelocation(
                instruction: Int(start) + Int((off - lower) / 8), number: number, record: ext.coreRelocation(raw)))
            }
          }
        }
        // A fragment is part of its parent's subprogram: a FUNC record at its start would
        // make the kernel take it for a subprogram of its own.
        if layout[placed].function.fragmentOf == nil {
          ext.appendKernelRecords(.functions, inSection: section, offsets: lower, upper, base: start, to: &functionInfo)
        }
        ext.appendKernelRecords(.lines, inSection: section, offsets: lower, upper, base: start, to: &lineInfo)
      }
    }
    return LinkedProgram(instructions: words, functionInfo: functionInfo, lineInfo: lineInfo,
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
