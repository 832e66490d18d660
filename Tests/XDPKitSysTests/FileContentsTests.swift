import Foundation
import Glibc
import Testing

@testable import XDPKitSys

/// Reading whole files: what is refused, and that nothing blocks on a special file.
@Suite("FileContents")
struct FileContentsTests {
  @Test("a FIFO without a writer is refused as a FIFO at once, not waited on; a file and a cap read as told")
  func fifoAndLimit() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-file-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let fifo = directory.appendingPathComponent("pipe").path
    #expect(mkfifo(fifo, 0o600) == 0)
    // Opened without O_NONBLOCK, this open would wait for a writer forever.
    #expect(throws: FileReadError.notRegularFile(path: fifo, kind: "FIFO")) { try FileContents.read(path: fifo) }

    let file = directory.appendingPathComponent("bytes").path
    try Data([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: file))
    #expect(try FileContents.read(path: file) == [1, 2, 3, 4, 5])
    #expect(throws: FileReadError.tooLarge(path: file, limit: 4)) {
      try FileContents.read(path: file, requireRegularFile: true, limit: 4)
    }
  }
}
