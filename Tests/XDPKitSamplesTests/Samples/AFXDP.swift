import XDPKit

// The samples of the AF_XDP article (AFXDP.md).

func afxdpRedirectMaps(bytes: [UInt8]) throws {
  // sample: AFXDPRedirectMaps
  let loaded = try BPFObject(bytes: bytes).load()
  let ports = try loaded.devMap("PORTS")
  try ports.set(interfaceIndex: 7, program: loaded.program("on_egress").fileDescriptor, at: 0)
  if let entry = try ports.entry(at: 0) { print(entry) }  // DevMapEntry(interfaceIndex: 7, programID: 42)
  try loaded.cpuMap("CPUS").set(queueSize: 256, forCPU: 1)
  // sample: end
}

func afxdpSocket() throws {
  // sample: AFXDPSocket
  var socket = try XDPSocket(interface: "eth1", queue: 0)      // default redirect program
  socket.receive { frames in
    frames.forEachFrame { index, bytes in print(index, bytes.count) }
  }
  try socket.respond { frame, reply in                          // echo in place
    reply.copyMemory(from: frame)
    return frame.count                                          // or nil: no reply
  }
  print(try socket.statistics())
  socket.close()                                                // or let it go out of scope
  // sample: end
}

func afxdpSharedUMEM() throws {
  // sample: AFXDPSharedUMEM
  var first = try XDPSocket(interface: "eth1", queue: 0)
  let second = try XDPSocket(interface: "eth1", queue: 1, sharingUMEMOf: &first, frames: 1024)
  // sample: end
  first.close()
  second.close()
}

func afxdpAsync(swap: (UnsafeMutableRawBufferPointer) -> Void) async throws {
  // sample: AFXDPAsync
  let socket = XDPAsyncSocket(try XDPSocket(interface: "eth1", queue: 0))
  for await var batch in socket.batches() {
    for i in 0..<batch.count { batch.withUnsafeMutableBytes(ofPacket: i) { swap($0) } }
    try await socket.send(batch)
  }
  // sample: end
}
