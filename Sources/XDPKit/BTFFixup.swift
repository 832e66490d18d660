import XDPKitObject

/// The edits every loader makes to an object's BTF before BPF_BTF_LOAD: clang writes each
/// DATASEC with size 0 and (for global variables) offset 0, leaving the loader to copy the ELF
/// section sizes and symbol offsets in. The kernel also wants DATASEC entries sorted.
enum BTFFixup {
  /// `externIDs` are the FUNCs and VARs with extern linkage (``BTF/headerSummary``, which the
  /// loader reads for the kernel features too).
  static func apply(to btf: inout BTF, object: BPFObject, externIDs: [Int]) throws(BTFError) {
    // Only the DATASECs and their VARs' names are read, in place; all DATASECs change in one
    // edit of the encoded records.
    try btf.layOutDataSections(from: object.elf)
    try sanitizeExterns(in: &btf, object: object, externIDs: externIDs)
    try makeHiddenFunctionsStatic(in: &btf, object: object)
  }

  /// A global function with hidden or internal visibility (`__hidden`, that is
  /// `__attribute__((visibility("hidden")))`) cannot be called from outside its object, so its
  /// FUNC is made static, as libbpf does: the verifier then checks it in its callers' context
  /// (knowing, say, that a pointer argument is not NULL) instead of alone, as it checks a
  /// global function, which refuses such code.
  static func makeHiddenFunctionsStatic(in btf: inout BTF, object: BPFObject) throws(BTFError) {
    func isHiddenFunction(_ symbol: ELFSymbol) -> Bool {
      symbol.type == ELFConstants.sttFunc && symbol.isGlobal && !symbol.isUndefined
        && (symbol.visibility == ELFConstants.stvHidden || symbol.visibility == ELFConstants.stvInternal)
    }
    // Nearly every object has none: one pass over the symbols, and nothing else.
    guard object.elf.symbols.contains(where: isHiddenFunction) else { return }
    let hidden = object.elf.symbols.filter(isHiddenFunction)
    for id in 1..<btf.types.count {
      guard case .function(let prototype, .global) = btf.types[id].body, let name = btf.types[id].name,
            hidden.contains(where: { $0.isNamed(name) })
      else { continue }
      var type = btf.types[id]
      type.body = .function(prototype: prototype, linkage: .static)
      try btf.replaceType(id: BTFTypeID(id), with: type)
    }
  }

  /// Clang describes externs in BTF in ways the kernel's BTF checker refuses: VARs and FUNCs
  /// with extern linkage, and `.kconfig`/`.ksyms` DATASECs (with size 0, and FUNC entries in
  /// `.ksyms`) that no ELF section backs. Extern VARs become global and extern FUNCs static
  /// (their types are kept for func_info and for reading), and each such DATASEC becomes an
  /// anonymous empty struct, which keeps every type id in place. Without this, any object with
  /// a `__kconfig`, `__ksym` or kfunc extern (clang 21's `__bpf_trap` included) lost its BTF.
  /// The kernel refuses a FUNC whose prototype has unnamed parameters ("Invalid arg#1"); clang
  /// leaves a kfunc declaration's parameters unnamed when the C declaration does.
  static func nameParameters(of prototype: BTFTypeID, in btf: inout BTF) throws(BTFError) {
    guard Int(prototype) < btf.types.count,
          case .functionPrototype(let returnType, var parameters) = btf.types[Int(prototype)].body,
          parameters.contains(where: { $0.nameOffset == 0 && $0.type != 0 })
    else { return }
    let name = try btf.appendString("arg")
    for index in parameters.indices where parameters[index].nameOffset == 0 && parameters[index].type != 0 {
      parameters[index] = BTFType.Parameter(nameOffset: name, type: parameters[index].type)
    }
    var type = btf.types[Int(prototype)]
    type.body = .functionPrototype(returnType: returnType, parameters: parameters)
    try btf.replaceType(id: prototype, with: type)
  }

  /// An `int` type id: an existing 4-byte signed INT, or a new one.
  static func intType(in btf: inout BTF) throws(BTFError) -> BTFTypeID {
    for (id, type) in btf.types.enumerated() {
      if case .int(let info) = type.body, info.size == 4, info.encoding == .signed, info.bits == 32 {
        return BTFTypeID(id)
      }
    }
    let name = try btf.appendString("int")
    return try btf.appendType(BTFType(nameOffset: name, body: .int(.init(size: 4, encoding: .signed, bits: 32))))
  }

  static func sanitizeExterns(in btf: inout BTF, object: BPFObject, externIDs ids: [Int]) throws(BTFError) {
    guard !ids.isEmpty else { return }
    let externIDs = Set(ids)
    for id in 1..<btf.types.count {
      var type = btf.types[id]
      switch type.body {
      case .variable(let target, .extern):
        // A typeless `const void` ksym: the kernel refuses a VAR of type void.
        let isVoid = ((try? btf.skippingModifiers(target)) ?? 0) == 0
        type.body = .variable(type: isVoid ? try intType(in: &btf) : target, linkage: .global)
      case .function(let prototype, .extern):
        type.body = .function(prototype: prototype, linkage: .static)
        try nameParameters(of: prototype, in: &btf)
      case .dataSection(_, let entries) where object.elf.section(named: type.name ?? "") == nil:
        guard !entries.isEmpty, entries.allSatisfy({ externIDs.contains(Int($0.type)) }) else { continue }
        type = BTFType(nameOffset: 0, body: .struct(size: 0, members: []))
      default:
        continue
      }
      try btf.replaceType(id: BTFTypeID(id), with: type)
    }
  }
}
