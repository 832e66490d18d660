import ArgumentParser

@main
struct XDPKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdpkit",
    abstract: "Inspect, load and attach BPF objects without libbpf.",
    subcommands: [Inspect.self, Load.self])
}
