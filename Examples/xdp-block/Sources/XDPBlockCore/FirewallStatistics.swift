/// The firewall's counters per XDP action, summed over CPUs: a snapshot of STATS.
public struct FirewallStatistics: Sendable, Equatable {
  /// The kernel's names of the XDP actions, indexed by action number.
  public static let actionNames = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"]

  /// Counters indexed by XDP action (0 aborted, 1 drop, 2 pass, 3 tx, 4 redirect).
  public var perAction: [ActionStats]

  /// A snapshot with the given counters; missing actions count zero.
  public init(perAction: [ActionStats]) {
    var counters = perAction
    while counters.count < Self.actionNames.count { counters.append(.zero) }
    self.perAction = counters
  }

  /// All zero.
  public static let zero = FirewallStatistics(perAction: [])

  /// The counters of `action`.
  public subscript(action: XDPActionIndex) -> ActionStats { perAction[action.rawValue] }

  /// Dropped packets and bytes (XDP_DROP).
  public var dropped: ActionStats { self[.drop] }
  /// Passed packets and bytes (XDP_PASS).
  public var passed: ActionStats { self[.pass] }
  /// Aborted packets and bytes (XDP_ABORTED: a program error).
  public var aborted: ActionStats { self[.aborted] }

  /// The table `xdp-block stats` prints: one line per action, packets and bytes.
  ///
  /// ```
  /// ACTION            PACKETS            BYTES
  /// XDP_ABORTED             0                0
  /// XDP_DROP              100             7400
  /// ```
  public var table: String {
    var lines = [pad("ACTION", 14) + leftPad("PACKETS", 14) + leftPad("BYTES", 16)]
    for (index, name) in Self.actionNames.enumerated() {
      let counters = perAction[index]
      lines.append(pad(name, 14) + leftPad("\(counters.packets)", 14) + leftPad("\(counters.bytes)", 16))
    }
    return lines.joined(separator: "\n")
  }
}

/// An XDP action as an index into ``FirewallStatistics/perAction``.
public enum XDPActionIndex: Int, Sendable, CaseIterable {
  /// XDP_ABORTED.
  case aborted = 0
  /// XDP_DROP.
  case drop = 1
  /// XDP_PASS.
  case pass = 2
  /// XDP_TX.
  case transmit = 3
  /// XDP_REDIRECT.
  case redirect = 4
}

/// Turns successive ``FirewallStatistics`` snapshots into the live line `xdp-block run` prints
/// once per second: totals and rates of passed and dropped packets.
public struct LiveStatistics: Sendable {
  private var previous: FirewallStatistics
  private var previousTime: ContinuousClock.Instant

  /// Starts from `initial`, taken at `time`.
  public init(initial: FirewallStatistics = .zero, at time: ContinuousClock.Instant) {
    previous = initial
    previousTime = time
  }

  /// The line for `current`, taken at `time`, with rates over the time since the previous
  /// snapshot:
  /// `passed 1200 pkts (100 pps, 0.1 Mbit/s)  dropped 300 pkts (25 pps, 0.0 Mbit/s)`.
  public mutating func line(for current: FirewallStatistics, at time: ContinuousClock.Instant) -> String {
    let elapsed = time - previousTime
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    defer {
      previous = current
      previousTime = time
    }
    return Self.format(current: current, previous: previous, seconds: seconds)
  }

  /// The live line for `current`, with rates from the change since `previous` over `seconds`.
  public static func format(current: FirewallStatistics, previous: FirewallStatistics, seconds: Double) -> String {
    func part(_ label: String, _ now: ActionStats, _ before: ActionStats) -> String {
      let packets = now.packets &- before.packets
      let bytes = now.bytes &- before.bytes
      let pps = seconds > 0 ? Double(packets) / seconds : 0
      let mbit = seconds > 0 ? Double(bytes) * 8 / seconds / 1e6 : 0
      return "\(label) \(now.packets) pkts (\(Int(pps.rounded())) pps, \(fixed(mbit, 1)) Mbit/s)"
    }
    var line = part("passed", current.passed, previous.passed) + "  "
      + part("dropped", current.dropped, previous.dropped)
    if current.aborted.packets > 0 { line += "  aborted \(current.aborted.packets) pkts" }
    return line
  }
}

/// `value` with `digits` decimals, without Foundation's formatters.
func fixed(_ value: Double, _ digits: Int) -> String {
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let scaled = Int((value * scale).rounded())
  if digits == 0 { return "\(scaled)" }
  let whole = scaled / Int(scale)
  var fraction = String(abs(scaled % Int(scale)))
  while fraction.count < digits { fraction = "0" + fraction }
  return "\(whole).\(fraction)"
}

func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func leftPad(_ text: String, _ width: Int) -> String {
  text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}
