import XDPKitSys

/// What to change in an object's description before its kernel objects are created.
///
/// ```swift
/// var options = LoadOptions()
/// options.maxEntries["DYNAMIC"] = 4096
/// options.globals["mode"] = UInt32(1)       // a `const volatile __u32 mode` in .rodata
/// options.pinDirectory = "/sys/fs/bpf/myservice"
/// let loaded = try object.load(options: options)
/// ```
public struct LoadOptions: Sendable {
  /// `max_entries` per map name. Required for maps whose definition leaves it at 0.
  public var maxEntries: [String: UInt32]
  /// `map_flags` per map name, replacing the object's flags.
  public var mapFlags: [String: UInt32]
  /// Initial values of global variables, by variable name. The value's size must equal the
  /// variable's size. Typical use: `const volatile` configuration in `.rodata`.
  public var globals: [String: any BitwiseCopyable & Sendable]
  /// The most verbose level the object's log calls (`xdpkit_log.h`) record; calls above it are
  /// removed by the verifier. `nil` keeps the object's default (info). Ignored for an object
  /// without log calls. See <doc:ProgramLogs>.
  public var logLevel: ProgramLogLevel? = nil
  /// Where maps declared with pin-by-name (`LIBBPF_PIN_BY_NAME`) are pinned and reused.
  /// `nil`: such maps are created fresh and not pinned.
  public var pinDirectory: String?
  /// The programs to load, by name; `nil` loads every program of the object.
  public var programs: Set<String>?
  /// Whether to load the object's BTF and pass func/line info with the programs (default
  /// true). When the kernel rejects the BTF, loading continues without it and
  /// ``LoadedObject/notes`` says so.
  public var useBTF: Bool
  /// Verifier log level used when a program fails to load (1 = basic, 2 = verbose).
  public var verifierLogLevel: UInt32
  /// Attach targets of programs that need one, by program name: required for freplace
  /// programs; for fentry/fexit/fmod_ret, tp_btf, iter and LSM programs it replaces the
  /// kernel symbol the section names (for example to trace a BPF program's function).
  public var attachTargets: [String: BTFAttachTarget] = [:]
  /// The kernel configuration `CONFIG_*` `__kconfig` externs are read from (plain or gzip'd);
  /// `nil`: `/proc/config.gz`, else `/boot/config-$(uname -r)`.
  public var kernelConfigPath: String? = nil
  /// The BTF that CO-RE relocations are resolved against: `nil` (default) reads the running
  /// kernel's `/sys/kernel/btf/vmlinux`; a path names a BTF file instead (for kernels without
  /// /sys/kernel/btf, or to resolve against another kernel's types). Read only when an object
  /// has CO-RE relocations, once per path and process.
  public var kernelBTFPath: String?
  /// Where the split BTF of kernel modules is read from when a CO-RE relocation's type is not
  /// in the kernel BTF: `nil` (default) means /sys/kernel/btf when ``kernelBTFPath`` is `nil`,
  /// and no modules when it is set. Every file but `vmlinux` in the directory is a module's
  /// BTF, split on top of the kernel BTF. Read only when a type is missing, once per process.
  public var kernelModuleBTFDirectory: String?
  /// How the multi-program dispatcher code loads programs differently from their sections:
  /// XDP components as extensions, the dispatcher with or without frags.
  var programOverrides: [String: ProgramLoadOverride] = [:]

  /// BTF encodings to rewrite as if the kernel lacked them (tests of the rewriting on a kernel
  /// that has them all). Normally empty: the loader probes the kernel after a refusal.
  var btfFeaturesAssumedMissing: BTFKernelFeatures = []

  /// Default options: nothing overridden, BTF used, all programs loaded.
  public init(
    maxEntries: [String: UInt32] = [:], mapFlags: [String: UInt32] = [:],
    globals: [String: any BitwiseCopyable & Sendable] = [:], pinDirectory: String? = nil,
    programs: Set<String>? = nil, useBTF: Bool = true, verifierLogLevel: UInt32 = 1,
    kernelBTFPath: String? = nil, kernelModuleBTFDirectory: String? = nil
  ) {
    self.kernelBTFPath = kernelBTFPath
    self.kernelModuleBTFDirectory = kernelModuleBTFDirectory
    self.maxEntries = maxEntries
    self.mapFlags = mapFlags
    self.globals = globals
    self.pinDirectory = pinDirectory
    self.programs = programs
    self.useBTF = useBTF
    self.verifierLogLevel = verifierLogLevel
  }
}

/// A change to how one program is loaded, for XDPKit's own use (multi-program XDP): the
/// program type (an XDP program loaded as BPF_PROG_TYPE_EXT, with no expected attach type)
/// and the load flags, instead of what its section says.
struct ProgramLoadOverride: Sendable {
  var type: BPFProgramType?
  var flags: ProgramLoadFlags
}
