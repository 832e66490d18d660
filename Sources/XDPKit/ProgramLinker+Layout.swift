import XDPKitObject

// The order of a linked program's functions: depth first, as libbpf lays them out.

extension ProgramLinker {
  /// Reorders the laid-out functions depth first: each callee right after its caller's
  /// earlier callees and everything they call, in the order the calls appear (libbpf's order,
  /// so that a program's instructions, and with them its tag, are the same whichever loader
  /// loaded it). The linker places callees as it meets them, breadth first; the two orders
  /// differ only when a callee calls further functions and its caller calls another after it.
  ///
  /// A function and its cold fragments move as one block, so the jumps between them stay
  /// valid; `branchFixups` (call and function-address targets, still to be written) and the
  /// layout's starts are moved with their functions. `calls` holds (caller, callee) layout
  /// indices in the order met.
  static func layOutDepthFirst(
    _ layout: inout [(function: BPFFunction, start: Int)], words: inout [UInt64],
    branchFixups: inout [(at: Int, target: Int)], calls: [(caller: Int, callee: Int)]
  ) {
    // Each entry's block head: the function itself, or the function a fragment belongs to.
    var head = [Int](repeating: 0, count: layout.count)
    for index in layout.indices {
      head[index] = layout[index].function.fragmentOf == nil || index == 0 ? index : head[index - 1]
    }
    var callees = [[Int]](repeating: [], count: layout.count)
    for call in calls { callees[head[call.caller]].append(head[call.callee]) }

    // Depth-first preorder from the entry function, with an explicit stack.
    var order: [Int] = []
    var visited = [Bool](repeating: false, count: layout.count)
    var stack = [(block: 0, nextCallee: 0)]
    visited[0] = true
    order.append(0)
    while let top = stack.last {
      guard top.nextCallee < callees[top.block].count else {
        stack.removeLast()
        continue
      }
      stack[stack.count - 1].nextCallee += 1
      let callee = callees[top.block][top.nextCallee]
      if !visited[callee] {
        visited[callee] = true
        order.append(callee)
        stack.append((callee, 0))
      }
    }
    let heads = layout.indices.filter { head[$0] == $0 }
    guard order != heads, order.count == heads.count else { return }

    // Each block's entries, then the new layout and, per old entry, how far it moves.
    var reordered: [(function: BPFFunction, start: Int)] = []
    reordered.reserveCapacity(layout.count)
    var shift = [Int](repeating: 0, count: layout.count)
    var moved = [UInt64]()
    moved.reserveCapacity(words.count)
    for block in order {
      var entry = block
      repeat {
        let (function, start) = layout[entry]
        shift[entry] = moved.count - start
        reordered.append((function, moved.count))
        moved.append(contentsOf: words[start..<(start + function.instructionCount)])
        entry += 1
      } while entry < layout.count && head[entry] == block
    }
    // Old positions to new: the entry that holds a position moves by its shift.
    func newPosition(_ old: Int) -> Int {
      let entry = layout.lastIndex { $0.start <= old } ?? 0
      return old + shift[entry]
    }
    for index in branchFixups.indices {
      branchFixups[index] = (newPosition(branchFixups[index].at), newPosition(branchFixups[index].target))
    }
    layout = reordered
    words = moved
  }
}
