// What the fuzz targets do with an input once the reader accepts it: walk every derived value,
// as a user of the reader would, so the code behind those values runs on fuzzed data too.
// Each function returns a checksum of what it read, so that the optimizer keeps the work.

import XDPKitObject

/// Walks everything derived from a parsed object.
public func exercise(_ object: BPFObject) -> Int {
  var checksum = 0
  for program in object.programs {
    for instruction in program.function.instructions {
      checksum &+= Int(instruction.opcode) &+ instruction.description.utf8.count
      checksum &+= instruction.bytes.count
    }
    checksum &+= program.relocations.count &+ "\(program.kind)".utf8.count
    checksum &+= program.programType.map { "\($0)".utf8.count } ?? 0
  }
  for function in object.functions { checksum &+= function.instructionCount }
  checksum &+= "\(object.maps)".utf8.count
  checksum &+= "\(object.dataSections)".utf8.count
  for data in object.dataSections {
    checksum &+= object.dataSection(named: data.name) != nil ? 1 : 0
  }
  checksum &+= "\(object.relocations)".utf8.count
  checksum &+= (object.license?.utf8.count ?? 0) &+ Int(object.kernelVersion ?? 0)
  for section in object.elf.sections where section.type == ELFConstants.shtRel {
    checksum &+= (try? object.elf.relocations(in: section).count) ?? -1
  }
  for map in object.maps {
    checksum &+= ((try? object.map(named: map.name)) != nil) ? 1 : 0
  }
  if let btf = object.btf { checksum &+= exercise(btf) }
  if let ext = object.btfExt { checksum &+= exercise(ext) }
  return checksum
}

/// Walks every type of a parsed `.BTF` through the queries, and checks that what the encoder
/// writes the parser reads back, and that encoding that again gives the same bytes (a broken
/// round trip stops the fuzzer with `fatalError`).
public func exercise(_ btf: BTF) -> Int {
  var checksum = 0
  let encoded = btf.encoded()
  checksum &+= encoded.count
  do {
    let again = try BTF(bytes: encoded)
    if again.encoded() != encoded {
      fatalError("BTF round trip: encoded() of a re-parsed BTF differs from the first encoding")
    }
  } catch {
    fatalError("BTF round trip: encoded() output does not parse: \(error)")
  }
  for id in 0..<UInt32(btf.types.count) {
    if let size = try? btf.resolvedSize(of: id) { checksum &+= size }
    if let skipped = try? btf.skippingModifiers(id) { checksum &+= Int(skipped) }
    if let skipped = try? btf.skippingQualifiers(id) { checksum &+= Int(skipped) }
    if let name = try? btf.name(of: id) { checksum &+= name.utf8.count }
    checksum &+= "\(btf.types[Int(id)])".utf8.count
  }
  return checksum
}

/// Walks the records of a parsed `.BTF.ext`.
public func exercise(_ ext: BTFExt) -> Int {
  "\(ext.funcInfo)".utf8.count &+ "\(ext.lineInfo)".utf8.count
    &+ "\(ext.coreRelocations)".utf8.count
}
