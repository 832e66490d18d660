// swift-tools-version:6.2
import PackageDescription

let package = Package(
  name: "XDPKit",
  products: [
    .library(name: "XDPKit", targets: ["XDPKit"]),
    .library(name: "XDPKitObject", targets: ["XDPKitObject"]),
    .library(name: "XDPPrograms", targets: ["XDPPrograms"]),
    .library(name: "XDPKitService", targets: ["XDPKitService"]),
    // xdp-block's logic, for the benchmark suite (Benchmarks/), which measures its bulk path.
    .library(name: "XDPBlockCore", targets: ["XDPBlockCore"]),
    .executable(name: "xdpkit", targets: ["xdpkit"]),
    .executable(name: "xdp-block", targets: ["xdp-block"]),
    .executable(name: "xdp-firewall", targets: ["xdp-firewall"]),
    .executable(name: "af-xdp-demo", targets: ["af-xdp-demo"]),
    .plugin(name: "BPFCompilerPlugin", targets: ["BPFCompilerPlugin"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    // XDPKitService: swift-service-lifecycle needs swift-tools-version 6.2.
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    // YAML (and JSON) with line numbers: xdp-block's declarative blocklist file, the deploy manifests' test.
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    // xdp-block run --metrics-address: the Prometheus text format, served over HTTP.
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    // The DocC catalog (Sources/XDPKit/Documentation.docc): `swift package generate-documentation`.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // C shim over the kernel uapi headers: bpf(2) wrapper and layout assertions. Nothing else.
    .target(name: "CXDPKit"),
    // Pure Swift BPF object reader: bytes in, an immutable description out. No Glibc, no kernel.
    .target(name: "XDPKitObject"),
    // Writes typed Swift for a BPF object from its BTF (xdpkit generate, BPFCompilerPlugin).
    .target(name: "XDPKitGenerator", dependencies: ["XDPKitObject"]),
    // bpf(2) commands and rtnetlink messages as Swift functions; owned file descriptors.
    .target(
      name: "XDPKitSys",
      dependencies: ["CXDPKit", "XDPKitObject", .product(name: "SystemPackage", package: "swift-system")]),
    // Typed views over map file descriptors.
    .target(
      name: "XDPKitMaps",
      dependencies: ["CXDPKit", "XDPKitObject", "XDPKitSys", .product(name: "SystemPackage", package: "swift-system")]),
    // Umbrella: loader, attachments, pinning, test runs; re-exports the layers above.
    .target(
      name: "XDPKit",
      dependencies: [
        "XDPKitObject", "XDPKitSys", "XDPKitMaps",
        // The multi-program dispatcher (Programs/xdp_dispatcher.c) is loaded from here.
        "XDPPrograms",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // Running XDP programs as ServiceLifecycle services, and map values as swift-metrics.
    .target(
      name: "XDPKitService",
      dependencies: [
        "XDPKit",
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    // Compiles Programs/*.c (or a target's BPF/*.c) with clang and embeds the objects.
    .executableTarget(name: "xdpkit-embed", dependencies: ["XDPKitGenerator"]),
    .plugin(
      name: "BPFCompilerPlugin", capability: .buildTool(), dependencies: ["xdpkit-embed"],
      path: "Sources/BPFCompilerPlugin"),
    // The programs XDPKit ships, compiled from Programs/ by the plugin.
    .target(name: "XDPPrograms", plugins: ["BPFCompilerPlugin"]),
    // Start-up and error reporting shared by the two command-line tools.
    .target(
      name: "XDPKitToolSupport",
      dependencies: [
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    // The user's inspection and loading tool, like bpftool.
    .executableTarget(
      name: "xdpkit",
      dependencies: [
        "XDPKit", "XDPKitGenerator", "XDPKitToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // The example tool: a blocklist firewall like xdp-filter (library for the logic, tested).
    // Its BPF/ folder links to Programs/xdp_firewall.c and firewall.h (one source of truth),
    // which the plugin compiles into the public typed `XDPFirewall` the tool uses.
    .target(
      name: "XDPBlockCore",
      dependencies: [
        "XDPKit", "XDPKitService", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      path: "Examples/xdp-block/Sources/XDPBlockCore",
      exclude: ["BPF"],
      plugins: ["BPFCompilerPlugin"]),
    .executableTarget(
      name: "xdp-block",
      dependencies: [
        "XDPBlockCore", "XDPKit", "XDPKitToolSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ],
      path: "Examples/xdp-block/Sources/xdp-block"),

    // The aya book's firewall: a short example of loading, logging and attaching.
    .executableTarget(
      name: "xdp-firewall",
      dependencies: [
        "XDPKit", "XDPKitToolSupport", "XDPKitService",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      path: "Examples/xdp-firewall/Sources/xdp-firewall",
      exclude: ["BPF"],
      plugins: ["BPFCompilerPlugin"]),

    // AF_XDP in Swift: echoes a UDP burst between two private namespaces (Sources/XDPKit/Documentation.docc/AFXDP.md).
    .executableTarget(
      name: "af-xdp-demo",
      dependencies: ["XDPKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Examples/af-xdp-demo/Sources/af-xdp-demo"),

    // Test-only: libelf, for the differential test of the reader. The library never links it.
    .systemLibrary(name: "CLibelf", path: "Tests/CLibelf", pkgConfig: "libelf"),
    .testTarget(
      name: "XDPKitObjectTests",
      dependencies: ["XDPKitObject", "CLibelf"],
      exclude: ["Fixtures"]),
    // Shared by the kernel tests: privilege gate, network namespaces and veth pairs.
    .target(
      name: "XDPKitTestSupport", dependencies: ["XDPKitSys", .product(name: "Logging", package: "swift-log")],
      path: "Tests/XDPKitTestSupport"),
    // Programs compiled by the plugin in a target that uses XDPKit: their typed API is generated.
    .target(
      name: "XDPKitTypedPrograms", dependencies: ["XDPKit"], path: "Tests/XDPKitTypedPrograms",
      exclude: ["BPF"], plugins: ["BPFCompilerPlugin"]),
    // Test-only: counts each thread's heap allocations (AF_XDP batch API: 0 per packet).
    .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
    .testTarget(name: "XDPKitSysTests", dependencies: ["XDPKitSys", "XDPKitTestSupport", "CXDPKit"]),
    .testTarget(
      name: "XDPKitTests",
      dependencies: [
        "XDPKit", "XDPKitGenerator", "XDPPrograms", "XDPKitTestSupport", "XDPKitTypedPrograms", .product(name: "Logging", package: "swift-log"),
        "CAllocationCounter",
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "XDPKitMapsTests", dependencies: ["XDPKitMaps", "XDPKitTestSupport"],
      exclude: ["RingBufferProgram.c", "RingBufferProgram.o"]),
    .testTarget(
      name: "XDPKitServiceTests",
      dependencies: [
        "XDPKitService", "XDPKitTestSupport", "XDPPrograms",
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "MetricsTestKit", package: "swift-metrics"),
      ]),
    // The Swift samples of README.md and the DocC articles, compiled (Samples/); the firewall
    // and the articles' my_filter.c are this target's generated XDPFirewall and MyFilter.
    // SampleDriftTests checks the documents show the samples verbatim; SampleRunTests runs the
    // kernel-facing ones in a test network.
    .testTarget(
      name: "XDPKitSamplesTests",
      dependencies: [
        "XDPKit", "XDPKitService", "XDPKitTestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      exclude: ["BPF", "Manifest"], plugins: ["BPFCompilerPlugin"]),
    .testTarget(
      name: "XDPBlockTests",
      dependencies: [
        "XDPBlockCore", "XDPKitService", "XDPPrograms", "XDPKitTestSupport", .product(name: "Yams", package: "Yams"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "MetricsTestKit", package: "swift-metrics"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
