import ArgumentParser
import Foundation
import XDPKit

/// `xdpkit map dump ID|NAME|PINPATH [--json]`: every entry of a map, keys and values formatted
/// through the map's BTF (structs by member, enums by name, arrays element by element), per-CPU
/// values per CPU. A map without BTF is dumped as hex bytes.
struct MapDump: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dump", abstract: "Dump a map's entries, formatted through its BTF.")
  @Argument(help: "The map's id, name, or pin path under bpffs.") var map: String
  @Flag(help: "Print JSON instead of text.") var json = false
  @Option(help: "Stop after this many entries.") var limit = 10_000

  /// One entry: its key and its value, or one value per CPU.
  struct Entry: Encodable {
    var key: DumpValue
    var value: DumpValue?
    var values: [DumpValue]?
  }

  func run() throws {
    let fd: BPFFileDescriptor
    if map.hasPrefix("/") {
      do { fd = try BPF.openPinned(at: map, kind: .map, access: .readOnly) } catch { throw ToolError("open \(map): \(error)") }
    } else {
      let info = try Inventory.resolve(map, kind: "map", among: try Inventory.maps(), id: \.id, name: \.name)
      do { fd = try BPF.openMap(id: info.id, access: .readOnly) } catch { throw ToolError("open map \(info.id): \(error)") }
    }
    let info: MapInfo
    do { info = try BPF.mapInfo(fd) } catch { throw ToolError("read map info: \(error)") }
    let formatter = BTFValueFormatter(map: info)
    let entries = try Self.entries(fd, info, limit: limit).map { key, values in
      Entry(key: formatter.key(key),
            value: values.count == 1 && !info.type.isPerCPU ? formatter.value(values[0]) : nil,
            values: info.type.isPerCPU ? values.map(formatter.value) : nil)
    }
    if json { return try Inventory.printJSON(entries) }
    for entry in entries {
      if let value = entry.value {
        print("key: \(entry.key.text)  value: \(value.text)")
      } else {
        let perCPU = (entry.values ?? []).enumerated().map { "cpu\($0.offset): \($0.element.text)" }
        print("key: \(entry.key.text)  " + perCPU.joined(separator: "  "))
      }
    }
    print("Found \(entries.count) element\(entries.count == 1 ? "" : "s")")
  }

  /// The map's entries as raw key bytes and value bytes (one per CPU for per-CPU maps).
  static func entries(_ fd: BPFFileDescriptor, _ info: MapInfo, limit: Int) throws -> [([UInt8], [[UInt8]])] {
    let cpus = info.type.isPerCPU ? ((try? SystemInfo.possibleCPUCount()) ?? 1) : 1
    let stride = info.type.isPerCPU ? (Int(info.valueSize) + 7) & ~7 : Int(info.valueSize)
    var result: [([UInt8], [[UInt8]])] = []
    var key = [UInt8](repeating: 0, count: Int(info.keySize))
    var next = key
    var value = [UInt8](repeating: 0, count: stride * cpus)
    var first = true
    while result.count < limit {
      let step = key.withUnsafeBytes { current in
        next.withUnsafeMutableBytes { BPF.nextKey(map: fd.rawValue, after: first ? nil : current.baseAddress, into: $0.baseAddress!) }
      }
      if case .failure(let error) = step {
        if error.errno == .noSuchFileOrDirectory { break }
        throw ToolError("iterate map \(info.id): \(error)")
      }
      first = false
      key = next
      let found = key.withUnsafeBytes { keyBytes in
        value.withUnsafeMutableBytes { BPF.lookupElement(map: fd.rawValue, key: keyBytes.baseAddress, value: $0.baseAddress!) }
      }
      switch found {
      case .success:
        let values = (0..<cpus).map { Array(value[$0 * stride..<$0 * stride + Int(info.valueSize)]) }
        result.append((key, values))
      case .failure(let error) where error.errno == .noSuchFileOrDirectory: continue  // removed meanwhile
      case .failure(let error): throw ToolError("look up an element of map \(info.id): \(error)")
      }
    }
    return result
  }
}

extension BPFMapType {
  /// Whether values are per CPU (one per possible CPU, each padded to 8 bytes).
  var isPerCPU: Bool { self == .perCPUHash || self == .perCPUArray || self == .lruPerCPUHash || self == .perCPUCgroupStorage }
}

/// A key or value formatted through BTF: numbers, enum names, arrays, structs by member.
indirect enum DumpValue: Encodable {
  case signed(Int64)
  case unsigned(UInt64)
  case name(String)
  case list([DumpValue])
  case members([(String, DumpValue)])
  case bytes([UInt8])

  func encode(to encoder: any Encoder) throws {
    switch self {
    case .signed(let v): var c = encoder.singleValueContainer(); try c.encode(v)
    case .unsigned(let v): var c = encoder.singleValueContainer(); try c.encode(v)
    case .name(let v): var c = encoder.singleValueContainer(); try c.encode(v)
    case .list(let items): var c = encoder.unkeyedContainer(); for item in items { try c.encode(item) }
    case .members(let members):
      var c = encoder.container(keyedBy: Key.self)
      for (name, value) in members { try c.encode(value, forKey: Key(name)) }
    case .bytes(let bytes):
      var c = encoder.singleValueContainer(); try c.encode(bytes.map { String(format: "%02x", $0) }.joined(separator: " "))
    }
  }

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// The value on one line: `{packets: 3, bytes: 126}`, `[1, 2]`, `XDP_DROP`, `0a 0b`.
  var text: String {
    switch self {
    case .signed(let v): return "\(v)"
    case .unsigned(let v): return "\(v)"
    case .name(let v): return v
    case .list(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
    case .members(let members): return "{" + members.map { "\($0.0): \($0.1.text)" }.joined(separator: ", ") + "}"
    case .bytes(let bytes): return bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
  }
}

/// Formats a map's keys and values through the BTF the map was created with.
struct BTFValueFormatter {
  let btf: BTF?
  let keyType: BTFTypeID
  let valueType: BTFTypeID

  init(map info: MapInfo) {
    keyType = BTFTypeID(info.btfKeyTypeID)
    valueType = BTFTypeID(info.btfValueTypeID)
    if info.btfID != 0, let fd = try? BPF.openBTF(id: info.btfID), let bytes = try? BPF.btfBytes(fd) {
      btf = try? BTF(bytes: bytes)
    } else {
      btf = nil
    }
  }

  func key(_ bytes: [UInt8]) -> DumpValue { format(bytes[...], keyType) }
  func value(_ bytes: [UInt8]) -> DumpValue { format(bytes[...], valueType) }

  func format(_ bytes: ArraySlice<UInt8>, _ id: BTFTypeID) -> DumpValue {
    guard let btf, id != 0, let type = try? btf.type(id: id) else { return .bytes(Array(bytes)) }
    switch type.body {
    case .int(let info):
      return integer(bytes, size: Int(info.size), signed: info.encoding.contains(.signed))
    case .enum(let size, let values):
      let raw = integer(bytes, size: Int(size), signed: true)
      if case .signed(let v) = raw, let match = values.first(where: { Int64($0.value) == v }), let name = match.name {
        return .name(name)
      }
      return raw
    case .typedef(let target), .volatile(let target), .const(let target), .restrict(let target), .typeTag(let target):
      return format(bytes, target)
    case .array(let info):
      guard let size = try? btf.resolvedSize(of: info.elementType), size > 0 else { return .bytes(Array(bytes)) }
      return .list((0..<Int(info.count)).map { index in
        let start = bytes.startIndex + index * size
        return format(bytes[start..<min(start + size, bytes.endIndex)], info.elementType)
      })
    case .struct(_, let members), .union(_, let members):
      return .members(members.enumerated().map { index, member in
        let name = member.name ?? "<anon\(index)>"
        if member.bitfieldSize > 0 {
          let word = integer(bytes, size: min(8, bytes.count), signed: false)
          guard case .unsigned(let all) = word else { return (name, word) }
          let value = (all >> UInt64(member.bitOffset)) & ((1 << UInt64(member.bitfieldSize)) - 1)
          return (name, .unsigned(value))
        }
        let start = bytes.startIndex + Int(member.bitOffset / 8)
        let size = (try? btf.resolvedSize(of: member.type)) ?? 0
        guard start + size <= bytes.endIndex else { return (name, .bytes([])) }
        return (name, format(bytes[start..<start + size], member.type))
      })
    default:
      return .bytes(Array(bytes))
    }
  }

  func integer(_ bytes: ArraySlice<UInt8>, size: Int, signed: Bool) -> DumpValue {
    guard size <= 8, size <= bytes.count else { return .bytes(Array(bytes)) }
    var value: UInt64 = 0
    for (index, byte) in bytes.prefix(size).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
    guard signed, size > 0 else { return .unsigned(value) }
    let shift = UInt64(64 - 8 * size)
    return .signed(Int64(bitPattern: value << shift) >> Int64(shift))
  }
}
