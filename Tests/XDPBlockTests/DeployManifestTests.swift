import Foundation
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport
import Yams

/// The Kubernetes files in Examples/xdp-block/deploy/ hold what their README promises.
@Suite("Deploy manifests: the DaemonSet, the ConfigMap and the container build")
struct DeployManifestTests {
  /// Examples/xdp-block/deploy, found from this file (Tests/XDPBlockTests/…).
  private static let deploy = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Examples/xdp-block/deploy")

  static func text(_ name: String) throws -> String {
    try String(contentsOf: deploy.appendingPathComponent(name), encoding: .utf8)
  }

  static func document(_ name: String) throws -> Node {
    let root = try Yams.compose(yaml: try text(name))
    return try #require(root, "\(name) holds no YAML document")
  }

  /// The strings of a list node.
  static func strings(_ node: Node?) -> [String] {
    (node?.array() ?? []).compactMap(\.string)
  }

  /// The one container of the DaemonSet's pod.
  static func container() throws -> Node {
    let containers = try document("daemonset.yaml")["spec"]?["template"]?["spec"]?["containers"]?.array() ?? []
    #expect(containers.count == 1)
    return try #require(containers.first)
  }

  @Test("Every YAML file in deploy/ parses and is a Kubernetes object")
  func everyFileParses() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.deploy.path)
      .filter { $0.hasSuffix(".yaml") }.sorted()
    #expect(names == ["configmap.yaml", "daemonset.yaml"])
    for name in names {
      let documents = Array(try Yams.compose_all(yaml: try Self.text(name)))
      #expect(documents.count == 1, "\(name)")
      for document in documents {
        #expect(document["apiVersion"]?.string?.isEmpty == false, "\(name): apiVersion")
        #expect(document["kind"]?.string?.isEmpty == false, "\(name): kind")
        #expect(document["metadata"]?["name"]?.string?.isEmpty == false, "\(name): metadata.name")
      }
    }
  }

  @Test("The DaemonSet runs on the host network, rolls one node at a time, its selector matches")
  func daemonSet() throws {
    let daemonSet = try Self.document("daemonset.yaml")
    #expect(daemonSet["apiVersion"]?.string == "apps/v1")
    #expect(daemonSet["kind"]?.string == "DaemonSet")
    let spec = try #require(daemonSet["spec"])
    #expect(spec["updateStrategy"]?["type"]?.string == "RollingUpdate")
    #expect(spec["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"]?.int == 1)
    let template = try #require(spec["template"])
    let selector = try #require(spec["selector"]?["matchLabels"]?.mapping)
    #expect(!selector.isEmpty)
    for (key, value) in selector {
      #expect(template["metadata"]?["labels"]?[key] == value, "selector label \(key.string ?? "?")")
    }
    #expect(template["spec"]?["hostNetwork"]?.bool == true)
    #expect(template["spec"]?["securityContext"]?["privileged"] == nil)
  }

  @Test("Prometheus scrape annotations name the metrics port and path")
  func scrapeAnnotations() throws {
    let annotations = try Self.document("daemonset.yaml")["spec"]?["template"]?["metadata"]?["annotations"]
    #expect(annotations?["prometheus.io/scrape"]?.string == "true")
    #expect(annotations?["prometheus.io/port"]?.string == "9464")
    #expect(annotations?["prometheus.io/path"]?.string == "/metrics")
  }

  @Test("The container: not privileged, BPF, NET_ADMIN and PERFMON only, nothing else kept")
  func capabilities() throws {
    let security = try #require(try Self.container()["securityContext"])
    #expect(security["privileged"]?.bool == false)
    #expect(security["allowPrivilegeEscalation"]?.bool == false)
    #expect(Set(Self.strings(security["capabilities"]?["add"])) == ["BPF", "NET_ADMIN", "PERFMON"])
    #expect(Self.strings(security["capabilities"]?["drop"]) == ["ALL"])
  }

  @Test("The command: run with --iface, --config in the mounted ConfigMap, --metrics-address on 9464")
  func arguments() throws {
    let container = try Self.container()
    #expect(container["image"]?.string?.contains("xdp-block") == true)
    let arguments = Self.strings(container["args"])
    #expect(arguments.first == "run")
    func value(after option: String) -> String? {
      guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else { return nil }
      return arguments[index + 1]
    }
    #expect(value(after: "--iface") == "$(IFACE)")
    #expect((container["env"]?.array() ?? []).compactMap { $0["name"]?.string } == ["IFACE"])
    #expect(value(after: "--config") == "/etc/xdp-block/blocklist.yaml")
    #expect(value(after: "--metrics-address") == "0.0.0.0:9464")
    let ports = container["ports"]?.array() ?? []
    #expect(ports.contains { $0["name"]?.string == "metrics" && $0["containerPort"]?.int == 9464 })
  }

  @Test("The liveness probe asks /healthz on the metrics port; requests and limits are set")
  func probeAndResources() throws {
    let container = try Self.container()
    let probe = container["livenessProbe"]?["httpGet"]
    #expect(probe?["path"]?.string == "/healthz")
    #expect(probe?["port"]?.string == "metrics")
    for kind in ["requests", "limits"] {
      #expect(container["resources"]?[kind]?["cpu"]?.string?.isEmpty == false, "\(kind).cpu")
      #expect(container["resources"]?[kind]?["memory"]?.string?.isEmpty == false, "\(kind).memory")
    }
  }

  @Test("Mounts: bpffs and BTF from the host, the ConfigMap as a directory, each with its volume")
  func mounts() throws {
    let pod = try #require(try Self.document("daemonset.yaml")["spec"]?["template"]?["spec"])
    let mounts = try Self.container()["volumeMounts"]?.array() ?? []
    let volumes = pod["volumes"]?.array() ?? []
    func volume(mountedAt path: String) -> (mount: Node, volume: Node)? {
      guard let mount = mounts.first(where: { $0["mountPath"]?.string == path }),
        let volume = volumes.first(where: { $0["name"] == mount["name"] })
      else { return nil }
      return (mount, volume)
    }
    let bpffs = try #require(volume(mountedAt: "/sys/fs/bpf"))
    #expect(bpffs.volume["hostPath"]?["path"]?.string == "/sys/fs/bpf")
    // Bidirectional would need a privileged container; the host mounts bpffs itself.
    #expect(bpffs.mount["mountPropagation"]?.string == "HostToContainer")
    let btf = try #require(volume(mountedAt: "/sys/kernel/btf"))
    #expect(btf.volume["hostPath"]?["path"]?.string == "/sys/kernel/btf")
    #expect(btf.mount["readOnly"]?.bool == true)
    let config = try #require(volume(mountedAt: "/etc/xdp-block"))
    #expect(config.mount["readOnly"]?.bool == true)
    // A subPath mount never sees a ConfigMap update.
    #expect(config.mount["subPath"] == nil)
    let configMap = try Self.document("configmap.yaml")
    #expect(config.volume["configMap"]?["name"]?.string == configMap["metadata"]?["name"]?.string)
    #expect(volumes.count == mounts.count)
  }

  @Test("The ConfigMap's blocklist parses with the blocklist file parser, documentation addresses only")
  func configMapBlocklist() throws {
    let configMap = try Self.document("configmap.yaml")
    #expect(configMap["kind"]?.string == "ConfigMap")
    let text = try #require(configMap["data"]?["blocklist.yaml"]?.string)
    let file = try BlocklistFile(parsing: text, source: "configmap.yaml: blocklist.yaml")
    let expected = try ["192.0.2.1", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"].map {
      try BlockEntry(parsing: $0)
    }
    #expect(file.entries == expected)
    #expect(file.mode == .auto)
    #expect(file.events == nil)
  }

  @Test("The Containerfile builds in release with a static Swift runtime and ships a slim image")
  func containerfile() throws {
    let lines = try Self.text("Containerfile").split(separator: "\n").map(String.init)
    let stages = lines.filter { $0.hasPrefix("FROM ") }
    #expect(stages == ["FROM swift:6.3-bookworm AS build", "FROM debian:bookworm-slim"])
    let build = try #require(lines.first { $0.contains("swift build -c release") })
    #expect(build.contains("--product xdp-block"))
    #expect(build.contains("--static-swift-stdlib"))
    #expect(lines.contains("COPY --from=build /out/xdp-block /usr/local/bin/xdp-block"))
    #expect(lines.contains("ENTRYPOINT [\"/usr/local/bin/xdp-block\"]"))
  }
}

/// The capabilities the DaemonSet gives are the ones `xdp-block run` needs, on this kernel.
@Suite("Deploy manifests: the DaemonSet's capabilities against the kernel")
struct DeployCapabilityTests {
  /// `xdp-block run` in side b of a new network pair, with only `capabilities` (setpriv's
  /// bounding set: a root process keeps no other).
  private func run(capabilities: [String], in network: TestNetwork) throws -> CommandResult {
    let setpriv = try Command.locate("setpriv", candidates: ["/usr/bin/setpriv", "/bin/setpriv"])
    let bounding = "-all," + capabilities.map { "+" + $0.lowercased() }.joined(separator: ",")
    return try network.run(
      in: .b, setpriv, "--bounding-set", bounding, "--inh-caps", "-all", try Tool.path,
      "run", "--iface", network.interfaceB, "--block", "192.0.2.1", "--duration", "1", timeout: .seconds(60))
  }

  @Test("With the DaemonSet's capabilities run attaches and detaches; without PERFMON the verifier refuses", .kernel)
  func capabilitiesSuffice() throws {
    let security = try DeployManifestTests.container()["securityContext"]
    let capabilities = DeployManifestTests.strings(security?["capabilities"]?["add"])
    #expect(capabilities.sorted() == ["BPF", "NET_ADMIN", "PERFMON"])
    let network = try TestNetwork()
    defer { network.destroy() }

    let granted = try run(capabilities: capabilities, in: network)
    #expect(granted.status == 0, "\(granted.standardError)")
    #expect(granted.standardOutput.contains("attached xdp_firewall"))
    #expect(granted.standardOutput.contains("detached from \(network.interfaceB)"))

    let withoutPerfmon = try run(capabilities: capabilities.filter { $0 != "PERFMON" }, in: network)
    #expect(withoutPerfmon.status != 0)
    #expect(withoutPerfmon.standardError.contains("load xdp_firewall: permission denied"))
    #expect(withoutPerfmon.standardError.contains("partial copy of pointer"))
  }
}
