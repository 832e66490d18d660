import Testing
import XDPBlockCore
import XDPKit

@Suite("Blocklist reconcile plan: insert new entries first, then remove old")
struct BlocklistFileReconcileTests {
  private func set(_ texts: [String]) throws -> Set<BlockEntry> {
    Set(try texts.map { try BlockEntry(parsing: $0) })
  }

  private func list(_ texts: [String]) throws -> [BlockEntry] {
    try texts.map { try BlockEntry(parsing: $0) }
  }

  @Test("Add, keep and remove: exact inserts and removes, sorted, with the peak per map")
  func mixed() throws {
    let current = try set(["192.0.2.1", "192.0.2.2", "198.51.100.0/24", "2001:db8::1"])
    let desired = try set(["192.0.2.2", "203.0.113.9", "198.51.100.0/24", "2001:db8::/48", "192.0.2.0/25"])
    let plan = BlocklistReconcile.plan(current: current, desired: desired)
    #expect(plan.insert == (try list(["192.0.2.0/25", "203.0.113.9", "2001:db8::/48"])))
    #expect(plan.remove == (try list(["192.0.2.1", "2001:db8::1"])))
    #expect(plan.peakCounts == ["BLOCKLIST": 3, "CIDR4": 2, "BLOCKLIST6": 1, "CIDR6": 1])
    #expect(!plan.isEmpty)
  }

  @Test("The same set plans nothing; the peak is the current size")
  func unchanged() throws {
    let entries = try set(["192.0.2.1", "198.51.100.0/24"])
    let plan = BlocklistReconcile.plan(current: entries, desired: entries)
    #expect(plan == BlocklistReconcile.Plan(insert: [], remove: [], peakCounts: ["BLOCKLIST": 1, "CIDR4": 1]))
    #expect(plan.isEmpty)
  }

  @Test("From empty: insert everything; to empty: remove everything")
  func fromAndToEmpty() throws {
    let entries = try set(["2001:db8::2", "192.0.2.7", "192.0.2.3"])
    let fill = BlocklistReconcile.plan(current: [], desired: entries)
    #expect(fill.insert == (try list(["192.0.2.3", "192.0.2.7", "2001:db8::2"])))
    #expect(fill.remove == [])
    let drain = BlocklistReconcile.plan(current: entries, desired: [])
    #expect(drain.insert == [])
    #expect(drain.remove == (try list(["192.0.2.3", "192.0.2.7", "2001:db8::2"])))
    #expect(drain.peakCounts == ["BLOCKLIST": 2, "BLOCKLIST6": 1])
  }

  @Test("A full replacement holds both sets for a moment: the peak is their sum")
  func replacement() throws {
    let old = Set((1...100).map { BlockEntry.ipv4(IPv4Address(0xC000_0200 | UInt32($0))) })
    let new = Set((1...50).map { BlockEntry.ipv4(IPv4Address(0xCB00_7100 | UInt32($0))) })
    let plan = BlocklistReconcile.plan(current: old, desired: new)
    #expect(plan.insert.count == 50)
    #expect(plan.insert.first == .ipv4(IPv4Address(0xCB00_7101)))
    #expect(plan.remove.count == 100)
    #expect(plan.remove.last == .ipv4(IPv4Address(0xC000_0264)))
    #expect(plan.peakCounts == ["BLOCKLIST": 150])
  }

  @Test("Applied in order, a source in both sets is blocked at every step")
  func neverUnblocksKeptEntries() throws {
    let current = try set(["192.0.2.1", "192.0.2.2", "198.51.100.0/24"])
    let desired = try set(["192.0.2.2", "198.51.100.0/24", "203.0.113.0/24"])
    let plan = BlocklistReconcile.plan(current: current, desired: desired)
    var maps = current
    let kept = current.intersection(desired)
    for entry in plan.insert {
      maps.insert(entry)
      #expect(kept.isSubset(of: maps))
    }
    #expect(maps == current.union(desired))
    for entry in plan.remove {
      maps.remove(entry)
      #expect(kept.isSubset(of: maps))
    }
    #expect(maps == desired)
  }
}
