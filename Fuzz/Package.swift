// swift-tools-version:6.1
// The libFuzzer harness for the BPF object reader. A package of its own, so that the fuzzing
// flags (-sanitize=fuzzer,address) never touch the main package's build. See README.md.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the repository
// was cloned; read it rather than hard-code it.
let parent = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()

let package = Package(
  name: "XDPKitFuzz",
  dependencies: [.package(path: "..")],
  targets: [
    // Declares libFuzzer's LLVMFuzzerRunDriver for Swift. Header only; the runtime provides it.
    .target(name: "CFuzzerDriver"),
    // What the targets do with an input the reader accepts.
    .target(
      name: "FuzzSupport",
      dependencies: [.product(name: "XDPKitObject", package: parent.lastPathComponent)]),
    // BPFObject(bytes:) over whole object files.
    .executableTarget(
      name: "FuzzBPFObject",
      dependencies: [
        "CFuzzerDriver", "FuzzSupport",
        .product(name: "XDPKitObject", package: parent.lastPathComponent),
      ]),
    // BTF(bytes:) and BTFExt(bytes:btf:) over section contents.
    .executableTarget(
      name: "FuzzBTF",
      dependencies: [
        "CFuzzerDriver", "FuzzSupport",
        .product(name: "XDPKitObject", package: parent.lastPathComponent),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
