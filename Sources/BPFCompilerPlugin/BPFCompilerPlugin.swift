import Foundation
import PackagePlugin

/// A SwiftPM build-tool plugin that compiles BPF C programs with clang and embeds the objects
/// in the Swift module it is applied to, so `swift build` produces them and editing a `.c`
/// (or a header next to it) rebuilds it.
///
/// Sources: every `*.c` in the target's `BPF/` folder if it has one (exclude that folder from
/// the target in Package.swift), otherwise in the package's top-level `Programs/` folder. A
/// file in `BPF/` may be a symbolic link to one elsewhere in the package (xdp-block's
/// `BPF/xdp_firewall.c` links to `Programs/`), so one C source can serve several targets.
/// Each is compiled with `clang -O2 -g -target bpf`, the uapi include path and the package's
/// `Programs/include` (so `#include "xdpkit_log.h"` works from any target), then all
/// objects are embedded (base64) in a generated `EmbeddedBPFObjects` enum:
/// `EmbeddedBPFObjects.bytes(named: "xdp_pass")` returns the object's bytes.
///
/// When the target depends on XDPKit, each object also gets its typed API, generated from its
/// BTF (as `xdpkit generate` writes it): `xdp_firewall.c` becomes `XDPFirewall`, with
/// `XDPFirewall.load { $0.eventsEnabled = 1 }` and typed maps, programs and globals. It is
/// `public` in a library target and `internal` in an executable or test target.
@main
struct BPFCompilerPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target as? SourceModuleTarget else { return [] }
    let files = FileManager.default
    let own = module.directoryURL.appending(path: "BPF")
    var isDirectory: ObjCBool = false
    let directory = files.fileExists(atPath: own.path, isDirectory: &isDirectory) && isDirectory.boolValue
      ? own : context.package.directoryURL.appending(path: "Programs")
    let sources = try Self.files(in: directory, suffix: ".c")
    if sources.isEmpty {
      Diagnostics.warning("BPFCompilerPlugin: no .c files in \(directory.path)")
    }
    // Programs/include (xdpkit_bpf.h, xdpkit_log.h) is on every target's include path, also
    // for a target with its own BPF/ folder (the examples).
    let shared = context.package.directoryURL.appending(path: "Programs").appending(path: "include")
    var headers = try Self.files(in: directory, suffix: ".h")
    if !directory.path.hasPrefix(context.package.directoryURL.appending(path: "Programs").path) {
      headers += try Self.files(in: shared, suffix: ".h")
    }
    let clang = try Self.clang(context)

    var commands: [Command] = []
    var objects: [URL] = []
    for source in sources {
      let name = source.deletingPathExtension().lastPathComponent
      let object = context.pluginWorkDirectoryURL.appending(path: name + ".o")
      objects.append(object)
      commands.append(.buildCommand(
        displayName: "Compiling BPF program \(source.lastPathComponent)",
        executable: clang,
        arguments: [
          "-O2", "-g", "-target", "bpf",
          "-I" + Self.multiarchInclude, "-I" + directory.path, "-I" + shared.path,
          "-Wall", "-Werror",
          "-fdebug-prefix-map=\(directory.path)=\(directory.lastPathComponent)",
          "-c", source.path, "-o", object.path,
        ],
        inputFiles: [source] + headers,
        outputFiles: [object]))
    }
    let embed = try context.tool(named: "xdpkit-embed").url
    let generated = context.pluginWorkDirectoryURL.appending(path: "EmbeddedBPFObjects.swift")
    commands.append(.buildCommand(
      displayName: "Embedding \(objects.count) BPF object(s) in \(target.name)",
      executable: embed,
      arguments: [generated.path] + objects.map(\.path),
      inputFiles: objects,
      outputFiles: [generated]))
    if Self.dependsOnXDPKit(target) {
      let access = (module as? SwiftSourceModuleTarget).map { $0.kind == .generic } ?? true ? "public" : "internal"
      for object in objects {
        let typed = context.pluginWorkDirectoryURL.appending(
          path: "Typed_" + object.deletingPathExtension().lastPathComponent + ".swift")
        commands.append(.buildCommand(
          displayName: "Generating typed Swift for \(object.lastPathComponent)",
          executable: embed,
          arguments: ["--typed", typed.path, object.path, access],
          inputFiles: [object],
          outputFiles: [typed]))
      }
    }
    return commands
  }

  /// Whether `target` uses the XDPKit library, directly or through its dependencies: the
  /// typed API imports it.
  static func dependsOnXDPKit(_ target: Target) -> Bool {
    var seen: Set<String> = []
    var pending: [Target] = [target]
    while let next = pending.popLast() {
      guard seen.insert(next.id).inserted else { continue }
      for dependency in next.dependencies {
        switch dependency {
        case .target(let dependencyTarget):
          if dependencyTarget.name == "XDPKit" { return true }
          pending.append(dependencyTarget)
        case .product(let product):
          if product.name == "XDPKit" { return true }
          pending.append(contentsOf: product.targets)
        @unknown default:
          break
        }
      }
    }
    return false
  }

  /// The `.c` files directly in `directory` (the programs), or every file ending in `suffix`
  /// in it and its subfolders (headers, e.g. include/).
  static func files(in directory: URL, suffix: String) throws -> [URL] {
    let files = FileManager.default
    guard files.fileExists(atPath: directory.path) else { return [] }
    var found: [URL] = []
    if suffix == ".c" {
      for name in try files.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(suffix) {
        found.append(directory.appending(path: name))
      }
    } else if let walker = files.enumerator(atPath: directory.path) {
      for case let relative as String in walker where relative.hasSuffix(suffix) {
        found.append(directory.appending(path: relative))
      }
    }
    return found.sorted { $0.path < $1.path }
  }

  /// The uapi headers' architecture folder (asm/types.h lives there on Debian/Ubuntu).
  static var multiarchInclude: String {
    #if arch(x86_64)
      return "/usr/include/x86_64-linux-gnu"
    #elseif arch(arm64)
      return "/usr/include/aarch64-linux-gnu"
    #else
      return "/usr/include"
    #endif
  }

  /// clang with the BPF target: `$BPF_CLANG`, then the toolchain's, then the first on PATH.
  static func clang(_ context: PluginContext) throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = environment["BPF_CLANG"], !explicit.isEmpty {
      return URL(fileURLWithPath: explicit)
    }
    if let tool = try? context.tool(named: "clang") { return tool.url }
    for directory in (environment["PATH"] ?? "").split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(directory)).appending(path: "clang")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw PluginError("no clang found: install one with the BPF target or set BPF_CLANG")
  }
}

struct PluginError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
