import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit

/// `run --config` reads a file root trusts with its firewall: each refusal names the path
/// that failed and the check. The tests run as root, so "not by root" is the owner rule.
@Suite("Blocklist file: only a file nobody else can change is read", .serialized)
struct BlocklistFileTrustTests {
  private let text = "block:\n  - 192.0.2.1\n"

  /// A directory (mode 0755) holding `blocklist.yaml` (mode 0644), both root's.
  private func prepared() throws -> (directory: TemporaryDirectory, file: String) {
    let directory = try TemporaryDirectory()
    #expect(chmod(directory.path, 0o755) == 0)
    let file = directory.path + "/blocklist.yaml"
    try Files.writeInPlace(file, text)
    #expect(chmod(file, 0o644) == 0)
    #expect(try BlocklistFile(contentsOf: file).entries == [try BlockEntry(parsing: "192.0.2.1")])
    return (directory, file)
  }

  private func refusal(_ path: String) -> String? {
    do {
      _ = try BlocklistFile(contentsOf: path)
      return nil
    } catch {
      return error.description
    }
  }

  @Test("a file that group or others can write")
  func groupWritableFile() throws {
    let (directory, file) = try prepared()
    #expect(chmod(file, 0o664) == 0)
    #expect(throws: BlocklistFileError.untrusted(path: file, reason: "a file that group or others can write (mode 0664)")) {
      try BlocklistFile(contentsOf: file)
    }
    #expect(refusal(file) == "refusing to read the blocklist through \(file): a file that group or others can write (mode 0664)")
    _ = directory
  }

  @Test("a file owned by another user")
  func fileOfAnotherUser() throws {
    let (directory, file) = try prepared()
    #expect(chown(file, 65534, 65534) == 0)
    #expect(refusal(file) == "refusing to read the blocklist through \(file): a file owned by uid 65534, not by root")
    _ = directory
  }

  @Test("a symbolic link another user made, even to a good file; root's own link is followed")
  func symbolicLinks() throws {
    let (directory, file) = try prepared()
    let planted = directory.path + "/planted.yaml"
    #expect(symlink(file, planted) == 0)
    #expect(lchown(planted, 65534, 65534) == 0)
    #expect(refusal(planted) == "refusing to read the blocklist through \(planted): a symbolic link owned by uid 65534, not by root")
    let own = directory.path + "/own.yaml"
    #expect(symlink("blocklist.yaml", own) == 0)
    #expect(try BlocklistFile(contentsOf: own).entries == [try BlockEntry(parsing: "192.0.2.1")])
  }

  @Test("a root-owned link into a directory another user owns: the directory is named")
  func linkIntoAnotherUsersDirectory() throws {
    let (directory, _) = try prepared()
    let theirs = directory.path + "/theirs"
    #expect(mkdir(theirs, 0o755) == 0)
    try Files.writeInPlace(theirs + "/shadow.yaml", text)
    #expect(chown(theirs, 65534, 65534) == 0)
    let link = directory.path + "/via-link.yaml"
    #expect(symlink("theirs/shadow.yaml", link) == 0)
    #expect(refusal(link) == "refusing to read the blocklist through \(theirs): a directory owned by uid 65534, not by root")
  }

  @Test("a directory that group or others can write, unless it is sticky")
  func writableDirectory() throws {
    let (directory, file) = try prepared()
    #expect(chmod(directory.path, 0o775) == 0)
    #expect(refusal(file) == "refusing to read the blocklist through \(directory.path): a directory that group or others "
      + "can write (mode 0775) and without the sticky bit: another user could put another file in the blocklist's place")
    #expect(chmod(directory.path, 0o1777) == 0)
    #expect(refusal(file) == nil)
  }

  @Test("a FIFO is not a regular file")
  func fifo() throws {
    let directory = try TemporaryDirectory()
    let fifo = directory.path + "/blocklist.yaml"
    #expect(mkfifo(fifo, 0o600) == 0)
    #expect(refusal(fifo) == "refusing to read the blocklist through \(fifo): not a regular file")
  }
}
