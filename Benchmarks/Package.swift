// swift-tools-version:6.1
// XDPKit's benchmark suite (issue #5). A package of its own so that it never affects
// `swift test` of the main package; `bash Benchmarks/run.sh` builds and runs it next to the
// libbpf reference in C/. See Documentation/Benchmarks.md.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its directory, so the main package's identity is the
// name of whatever directory it was cloned into.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
  name: "XDPKitBenchmarks",
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
  ],
  targets: [
    .executableTarget(
      name: "xdpkit-bench",
      dependencies: [
        .product(name: "XDPKit", package: mainPackage),
        .product(name: "XDPPrograms", package: mainPackage),
        .product(name: "XDPBlockCore", package: mainPackage),
        .product(name: "Logging", package: "swift-log"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
