import XDPKit

// The sample of the multi-program article (MultiProgram.md).

func multiProgramComponent(bytes: [UInt8]) throws {
  // sample: MultiProgramComponent
  let object = try BPFObject(bytes: bytes)
  let counter = XDPComponent(object: object, program: "xdp_counter")
  let attached = try counter.attach(to: "eth1", mode: .native, priority: 10, chainCallActions: [.pass])
  let hits = try attached.object.global("hits", as: UInt64.self)  // the component's maps and globals
  try attached.detach()                                              // removes only this program
  // sample: end
  _ = hits
}
