// swift-tools-version:6.2
import PackageDescription

let package = Package(
  name: "MyService",
  // sample: WritingProgramsPackage
  // Package.swift
  dependencies: [
    .package(url: "https://github.com/…/XDPKit", from: "0.1.0"),
  ],
  targets: [
    .target(
      name: "MyFilters",
      dependencies: [.product(name: "XDPKit", package: "XDPKit")],
      exclude: ["BPF"],                                    // not C for SwiftPM to compile
      plugins: [.plugin(name: "BPFCompilerPlugin", package: "XDPKit")]),
    .executableTarget(name: "my-service", dependencies: ["MyFilters"]),
  ]
  // sample: end
)
