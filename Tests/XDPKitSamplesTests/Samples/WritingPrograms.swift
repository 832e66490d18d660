import XDPKit

// The samples of the article on writing programs and their generated types
// (WritingPrograms.md). BPF/my_filter.c is the article's program; the plugin makes it MyFilter.

func writingProgramsUse() throws {
  // sample: WritingProgramsUse
  // Sources/my-service/main.swift, after `import MyFilters`
  let filter = try MyFilter.load { $0.threshold = 20 }    // .rodata, typed, before load
  try filter.counts.insert(0, forKey: 7)                  // COUNTS: HashMap<UInt32, UInt64>
  let link = try filter.countPackets.attach(to: "veth0")  // count_packets: XDPProgram
  // sample: end
  _ = link
}

func writingProgramsRecords() async throws {
  // sample: WritingProgramsRecords
  let filter = try MyFilter.load()
  let counts = try filter.events.poll(as: MyFilter.Event.self, timeout: .seconds(1)) { event in
    print(event.timestampNs, event.verdict, event.length)
  }
  // counts.decoded records were handed over; counts.refused were shorter than an Event.
  filter.events.drain(as: MyFilter.Event.self) { print($0) }     // what is there, no wait
  for try await event in filter.events.records(as: MyFilter.Event.self) { print(event) }  // async, exact sizes
  // sample: end
  _ = counts
}

func writingProgramsPins() throws {
  // sample: WritingProgramsPins
  let maps = try MyFilter.Maps { name in try BPFMap.open(pinnedAt: "/sys/fs/bpf/my-filter/\(name)") }
  try maps.counts.insert(0, forKey: 7)
  // sample: end
}

func writingProgramsDynamic() throws {
  // sample: WritingProgramsDynamic
  let loaded = try BPFObject(bytes: EmbeddedBPFObjects.bytes(named: "my_filter")!).load(
    options: LoadOptions(globals: ["threshold": UInt32(20)]))
  try loaded.hashMap("COUNTS", key: UInt32.self, value: UInt64.self).insert(0, forKey: 7)
  // sample: end
}
