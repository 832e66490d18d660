extension BTF {
  /// Every type from `firstID` on, one entry per type id as ``rawDescription(of:)`` writes it,
  /// joined by newlines (with a final one).
  public func rawDump(from firstID: BTFTypeID = 1) -> String {
    guard Int(firstID) < types.count else { return "" }
    return (max(1, Int(firstID))..<types.count).map { rawDescription(of: BTFTypeID($0)) + "\n" }.joined()
  }

  /// Type `id` as text: a first line `[id] KIND name  field value …`, then for structs, unions,
  /// enums, prototypes and data sections one tab-indented line per member, value, parameter
  /// or entry. Anonymous types and items are named `(anon)`; a referenced type is shown by id.
  ///
  /// ```
  /// [12] STRUCT dump_flags  size 8  members 5
  ///     enabled  type 9  offset 0  bits 1
  /// [20] ENUM dump_color  size 4  signed  values 3
  ///     DUMP_RED = 1
  /// [24] FUNC_PROTO (anon)  returns 2  parameters 2
  ///     (anon)  type 25
  /// ```
  public func rawDescription(of id: BTFTypeID) -> String {
    guard Int(id) < types.count else { return "[\(id)] (no such type)" }
    let type = types[Int(id)]
    var head = "[\(id)] \(type.kind) \(type.name ?? "(anon)")"
    var items: [String] = []
    func field(_ name: String, _ value: Any) { head += "  \(name) \(value)" }
    func member(_ name: String?) -> String { name ?? "(anon)" }
    switch type.body {
    case .void: break
    case .int(let info):
      field("size", info.size)
      field("bits", info.bits)
      if info.offset != 0 { field("bit offset", info.offset) }
      var encoding: [String] = []
      if info.encoding.contains(.signed) { encoding.append("signed") }
      if info.encoding.contains(.char) { encoding.append("char") }
      if info.encoding.contains(.bool) { encoding.append("bool") }
      field("encoding", encoding.isEmpty ? "none" : encoding.joined(separator: ","))
    case .pointer(let target): field("to", target)
    case .array(let info):
      field("element", info.elementType)
      field("index", info.indexType)
      field("count", info.count)
    case .struct(let size, let members), .union(let size, let members):
      field("size", size)
      field("members", members.count)
      items = members.map { m in
        "\(member(m.name))  type \(m.type)  offset \(m.bitOffset)" + (m.bitfieldSize > 0 ? "  bits \(m.bitfieldSize)" : "")
      }
    case .enum(let size, let values):
      field("size", size)
      head += type.kindFlag ? "  signed" : "  unsigned"
      field("values", values.count)
      items = values.map { "\(member($0.name)) = " + (type.kindFlag ? "\($0.value)" : "\($0.unsignedValue)") }
    case .enum64(let size, let values):
      field("size", size)
      head += type.kindFlag ? "  signed" : "  unsigned"
      field("values", values.count)
      items = values.map { "\(member($0.name)) = " + (type.kindFlag ? "\($0.signedValue)" : "\($0.value)") }
    case .forward: field("of", type.forwardKind == .union ? "union" : "struct")
    case .typedef(let target), .volatile(let target), .const(let target), .restrict(let target), .typeTag(let target):
      field("type", target)
    case .function(let prototype, let linkage):
      field("type", prototype)
      field("linkage", linkage)
    case .functionPrototype(let returnType, let parameters):
      field("returns", returnType)
      field("parameters", parameters.count)
      items = parameters.map { "\(member($0.name))  type \($0.type)" }
    case .variable(let variableType, let linkage):
      field("type", variableType)
      field("linkage", linkage)
    case .dataSection(let size, let entries):
      field("size", size)
      field("variables", entries.count)
      items = entries.map { entry in
        let name = (try? self.name(of: entry.type)).flatMap { $0 } ?? "(anon)"
        return "\(name)  type \(entry.type)  offset \(entry.offset)  size \(entry.size)"
      }
    case .float(let size): field("size", size)
    case .declarationTag(let tagged, let component):
      field("type", tagged)
      field("component", component)
    }
    return ([head] + items.map { "\t" + $0 }).joined(separator: "\n")
  }
}
