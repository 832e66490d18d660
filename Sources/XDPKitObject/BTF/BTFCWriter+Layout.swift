/// How a struct or union written as C must be annotated so that a C compiler places its
/// members where the BTF says they are.
struct BTFStructLayout {
  /// Members are not where natural alignment puts them: `__attribute__((packed))`.
  var isPacked = false
  /// The alignment C gives the type once annotated, in bytes.
  var alignment = 1
  /// Bitfield widths, by member index.
  var bitfieldWidths: [Int: Int] = [:]
  /// `__attribute__((aligned(N)))` for members placed further than natural alignment puts them.
  var alignedMembers: [Int: Int] = [:]
  /// Unnamed padding before a member, by member index.
  var paddingBefore: [Int: String] = [:]
  /// Unnamed padding after the last member.
  var trailingPadding: String?
}

extension BTFCWriter {
  /// The alignment C gives a value of type `id`, in bytes.
  func alignment(of id: Int) -> Int {
    guard id > 0, id < btf.types.count else { return 1 }
    switch type(id).body {
    case .int(let info): return Self.powerOfTwoAlignment(Int(info.size))
    case .float(let size): return Self.powerOfTwoAlignment(Int(size))
    case .enum(let size, _), .enum64(let size, _): return Self.powerOfTwoAlignment(Int(size))
    case .pointer: return 8
    case .array(let info): return alignment(of: Int(info.elementType))
    case .struct, .union: return layout(id).alignment
    case .typedef(let target), .const(let target), .volatile(let target), .restrict(let target), .typeTag(let target):
      return alignment(of: Int(target))
    default: return 1
    }
  }

  static func powerOfTwoAlignment(_ size: Int) -> Int {
    var alignment = 1
    while alignment < size && alignment < 16 { alignment *= 2 }
    return alignment
  }

  static func alignUp(_ value: Int, _ alignment: Int) -> Int {
    alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment
  }

  /// A bitfield's width: the member's own, or for BTF without the kind flag, an INT's bit
  /// count narrower than its size.
  func bitfieldWidth(_ member: BTFType.Member) -> Int? {
    if member.bitfieldSize > 0 { return Int(member.bitfieldSize) }
    guard let id = try? btf.skippingModifiers(member.type), case .int(let info) = type(Int(id)).body,
          Int(info.bits) < Int(info.size) * 8 else { return nil }
    return Int(info.bits)
  }

  /// Unnamed `unsigned char` bitfields covering bits `start..<end`: each piece stays inside
  /// one byte, so a compiler places it exactly there. More than ``largestBitfieldPadding``
  /// whole bytes become one named array, `unsigned char __pad_at_OFFSET[N]`, between the
  /// bitfields for the partial bytes at either end: the text stays small whatever the gap (a
  /// malformed object's offsets can leave gigabytes).
  static func padding(from start: Int, to end: Int) -> String? {
    guard end > start else { return nil }
    let firstWhole = (start + 7) / 8, endWhole = end / 8
    guard endWhole - firstWhole > largestBitfieldPadding else { return bitfields(from: start, to: end) }
    var parts: [String] = []
    if let head = bitfields(from: start, to: firstWhole * 8) { parts.append(head) }
    parts.append("unsigned char __pad_at_\(firstWhole)[\(endWhole - firstWhole)]")
    if let tail = bitfields(from: endWhole * 8, to: end) { parts.append(tail) }
    return parts.joined(separator: "; ")
  }

  /// The most whole bytes of padding written as bitfields, one `:8` a byte.
  static let largestBitfieldPadding = 64

  /// Unnamed `unsigned char` bitfields covering bits `start..<end`, none across a byte.
  private static func bitfields(from start: Int, to end: Int) -> String? {
    guard end > start else { return nil }
    var widths: [Int] = []
    var position = start
    while position < end {
      let piece = min(end - position, 8 - position % 8)
      widths.append(piece)
      position += piece
    }
    return "unsigned char " + widths.map { ":\($0)" }.joined(separator: ", ")
  }

  /// The layout of struct or union `id`, computed once.
  func layout(_ id: Int) -> BTFStructLayout {
    if let known = layouts[id] { return known }
    var layout = BTFStructLayout()
    let type = type(id)
    let members: [BTFType.Member]
    let size: Int
    let isUnion: Bool
    switch type.body {
    case .struct(let s, let m): (size, members, isUnion) = (Int(s), m, false)
    case .union(let s, let m): (size, members, isUnion) = (Int(s), m, true)
    default: return layout
    }
    var naturalAlignment = 1
    for (index, member) in members.enumerated() {
      let memberAlignment = alignment(of: Int(member.type))
      let offset = Int(member.bitOffset)
      if let width = bitfieldWidth(member) {
        layout.bitfieldWidths[index] = width
        let storage = ((try? btf.resolvedSize(of: member.type)) ?? 4) * 8
        if storage > 0 && offset % storage + width > storage { layout.isPacked = true }
      } else if offset % (memberAlignment * 8) != 0 {
        layout.isPacked = true
      }
      naturalAlignment = max(naturalAlignment, memberAlignment)
    }
    if size % naturalAlignment != 0 { layout.isPacked = true }

    var position = 0
    var largest = 0
    var structAlignment = layout.isPacked ? 1 : naturalAlignment
    for (index, member) in members.enumerated() where !isUnion {
      let offset = Int(member.bitOffset)
      if let width = layout.bitfieldWidths[index] {
        let storage = ((try? btf.resolvedSize(of: member.type)) ?? 4) * 8
        var natural = position
        if !layout.isPacked && storage > 0 && natural % storage + width > storage { natural = Self.alignUp(natural, storage) }
        if offset > natural { layout.paddingBefore[index] = Self.padding(from: position, to: offset) }
        position = offset + width
        continue
      }
      let memberAlignment = layout.isPacked ? 1 : alignment(of: Int(member.type))
      let natural = Self.alignUp(position, memberAlignment * 8)
      if offset > natural {
        var candidate = memberAlignment * 2
        while !layout.isPacked && candidate <= 4096 && Self.alignUp(position, candidate * 8) < offset { candidate *= 2 }
        if !layout.isPacked && candidate <= 4096 && Self.alignUp(position, candidate * 8) == offset {
          layout.alignedMembers[index] = candidate
          structAlignment = max(structAlignment, candidate)
        } else {
          layout.paddingBefore[index] = Self.padding(from: position, to: offset)
        }
      }
      position = offset + ((try? btf.resolvedSize(of: member.type)) ?? 0) * 8
    }
    if isUnion {
      for (index, member) in members.enumerated() {
        largest = max(largest, layout.bitfieldWidths[index] ?? ((try? btf.resolvedSize(of: member.type)) ?? 0) * 8)
      }
      position = largest
      if Self.alignUp(position, structAlignment * 8) < size * 8 {
        layout.trailingPadding = "unsigned char __xdpkit_size[\(size)]"
      }
    } else if Self.alignUp(position, structAlignment * 8) < size * 8 {
      layout.trailingPadding = Self.padding(from: position, to: size * 8)
    }
    layout.alignment = structAlignment
    layouts[id] = layout
    return layout
  }
}
