/// Test programs built by BPFCompilerPlugin in a target that depends on XDPKit, as a user's
/// package would be: the plugin embeds each object and generates its typed API
/// (`BPF/typed_counter.c` → ``TypedCounter``), which the tests use.
public enum TypedPrograms {
  /// The embedded objects' names.
  public static var names: [String] { EmbeddedBPFObjects.names }
}
