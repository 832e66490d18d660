extension BTF {
  /// Parses split BTF (a kernel module's `/sys/kernel/btf/<module>`) on top of `base` (the
  /// kernel's vmlinux BTF): the result holds the base's types followed by the module's, with
  /// the ids the kernel gives them (continuing after the base's last id), and a string table
  /// that is the base's followed by the module's, as split BTF addresses it.
  ///
  /// ``encoded()`` of the result writes base and split types as one BTF.
  public init(splitBytes bytes: some Collection<UInt8>, base: BTF) throws(BTFError) {
    try self.init(parsing: bytes, base: base)
  }

}
