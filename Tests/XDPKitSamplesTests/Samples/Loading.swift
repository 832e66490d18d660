import Foundation
import XDPKit

// The samples of the loading and relocation article (Loading.md). They compile; the names
// they use (maps, programs, globals) stand for the reader's own object.

func loadingParse(url: URL) throws {
  // sample: LoadingParse
  let object = try BPFObject(bytes: [UInt8](try Data(contentsOf: url)))
  print(object.programs)            // [BPFProgram]: name, sectionName, programType, relocations, …
  print(object.maps)                // [BPFMapDefinition]: legacy `maps` and BTF `.maps`
  print(object.dataSections)        // .data/.rodata/.bss/.data.*/.rodata.* with their variables
  // sample: end
}

func loadingOptions(object: BPFObject) throws -> LoadedObject {
  // sample: LoadingOptions
  var options = LoadOptions()
  options.maxEntries["DYNAMIC"] = 4096            // required when the object leaves 0
  options.mapFlags["SPARSE"] = 1                  // BPF_F_NO_PREALLOC
  options.globals["mode"] = UInt32(2)             // `const volatile __u32 mode` in .rodata
  options.pinDirectory = "/sys/fs/bpf/myservice"  // for maps declared pin-by-name
  options.programs = ["xdp_firewall"]             // nil: all programs
  let loaded = try object.load(options: options)
  // sample: end
  return loaded
}

func loadingPrograms(loaded: LoadedObject, frame: [UInt8]) throws {
  // sample: LoadingPrograms
  let program = try loaded.program("xdp_firewall")    // LoadedProgram
  print(try program.info().id)                         // BPF_OBJ_GET_INFO_BY_FD
  let run = try program.testRun(packet: frame, repetitions: 1000)   // BPF_PROG_TEST_RUN
  if let action = run.action { print(action) }  // .drop, .pass, … for XDP
  print(run.packet)           // the packet after the program
  print(run.averageDuration)
  try program.pin(at: "/sys/fs/bpf/myservice/xdp_firewall")
  // sample: end
}

func loadingTracing(
  dispatcher: LoadedProgram, secondDispatcher: LoadedProgram, extensionObject: BPFObject, tracingObject: BPFObject
) throws {
  // sample: LoadingTracing
  var options = LoadOptions()
  options.attachTargets["decide_drop"] = .program(dispatcher, function: "decide")  // freplace
  let ext = try extensionObject.load(options: options)
  let link = try ext.program("decide_drop").attach()          // TracingLink, owns the link
  let other = try ext.program("decide_drop").attach(replacing: "decide", in: secondDispatcher)
  let tracer = try tracingObject.load()                        // fentry/bpf_fentry_test1
  let fentry = try tracer.program("on_entry").attach()
  _ = try tracer.program("on_entry").testRunWithoutInput()    // calls bpf_fentry_test1(1)
  // sample: end
  _ = (link, other, fentry)
}

func loadingGlobals(loaded: LoadedObject) throws {
  // sample: LoadingGlobals
  print(try loaded.global("packets", as: UInt64.self))  // reads .bss/.data/.rodata
  try loaded.setGlobal("counter_seed", to: UInt32(0))  // .data/.bss only
  // sample: end
  // sample: LoadingMappedGlobal
  if let packets = try loaded.mappedGlobal("packets", as: UInt64.self) {
    print(packets.value)  // a memory read: the name was looked up once
  }
  // sample: end
}
