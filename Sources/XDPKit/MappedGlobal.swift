/// A global variable of a loaded object, resolved once and read and written through its
/// mmapped data section: every access is a plain memory access, with no name lookup, no lock
/// and no system call. Get one from ``LoadedObject/mappedGlobal(_:as:)``.
///
/// ```swift
/// let packets = try loaded.mappedGlobal("packets", as: UInt64.self)!
/// print(packets.value)
/// ```
///
/// The handle keeps the section mapped for as long as it lives, also after the object is
/// closed (the map itself then stays until the handle goes). Like any memory the program
/// writes too, a plain read or write is not atomic for values wider than a machine word, and a
/// read-modify-write from Swift can lose the program's concurrent change: use
/// ``pointer`` with `Atomic` for counters both sides change.
public struct MappedGlobal<Value: BitwiseCopyable>: @unchecked Sendable {
  /// The variable's name.
  public let name: String
  /// The data section holding it (`.data`, `.bss`, `.rodata`, `.kconfig`, …).
  public let section: String
  /// Whether the variable can be written: not for `.rodata` and `.kconfig`, which are frozen
  /// and mapped read-only.
  public var isWritable: Bool { writable }
  /// The variable's address in the mapping, valid while this handle lives. Write through it
  /// only when ``isWritable``. C compilers align globals to their type, so the pointer is
  /// aligned for `Value` when `Value` is the variable's C type (``value`` does not rely on it).
  public var pointer: UnsafeMutablePointer<Value> { address.assumingMemoryBound(to: Value.self) }

  // Visible to inlined code, so that `value` compiles to a load or a store in the caller's
  // module (a call across modules costs more than the access itself).
  @usableFromInline let address: UnsafeMutableRawPointer
  @usableFromInline let writable: Bool

  private let mapping: GlobalDataMapping

  init(name: String, section: String, mapping: GlobalDataMapping, offset: Int) {
    self.name = name
    self.section = section
    self.mapping = mapping
    self.address = mapping.base + offset
    self.writable = mapping.isWritable
  }

  /// The variable's current value; setting it stores the variable's bytes and nothing else.
  /// Setting a read-only variable (``isWritable`` false) is a programming error and traps:
  /// the mapping is read-only, as the kernel made it.
  @inlinable
  public var value: Value {
    get { address.loadUnaligned(as: Value.self) }
    nonmutating set {
      precondition(writable, "global \(name) in \(section) is read-only")
      address.storeBytes(of: newValue, as: Value.self)
    }
  }
}
