// XDP attachment through netlink, and bpf_link and netlink on one interface, on a veth in a
// namespace of its own. The suite and its helpers are in AttachTests.swift.

import Foundation
import Synchronization
import Testing
import XDPKit
import XDPKitTestSupport

extension AttachTests {
  // MARK: netlink

  @Test("netlink: a second attach without replacement is .alreadyAttached with the kernel's message")
  func netlinkAlreadyAttached() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA
      let link = try programs.a.attach(to: veth, mode: .native, method: .netlink())
      #expect(!link.isLink)
      #expect(link.mode == .native)
      #expect(try XDP.attachment(on: veth).programID == idA)
      #expect {
        try programs.b.attach(to: veth, mode: .native, method: .netlink())
      } throws: { error in
        guard case AttachError.alreadyAttached(let interface, let cause) = error else { return false }
        return interface == network.interfaceB && cause.kernelMessage == "XDP program already attached"
          && cause.errno == .resourceBusy && (error as? AttachError)?.errno == .resourceBusy
          && cause.operation == .netlink(.setXDP(interfaceIndex: network.interfaceIndexB))
      }
      // Auto mode does not fall back to generic for "already attached".
      #expect(throws: AttachError.self) { try programs.b.attach(to: veth, mode: .auto, method: .netlink()) }
      #expect(try XDP.attachment(on: veth).programID == idA)
      try link.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("netlink: replacing a program by id swaps it; a stale id is refused")
  func netlinkReplaceByID() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA, idB = try programs.idB
      _ = try programs.a.attach(to: veth, mode: .native, method: .netlink())
      let replaced = try programs.b.attach(to: veth, mode: .native, method: .netlink(replacing: .program(id: idA)))
      #expect(try XDP.attachment(on: veth).programID == idB)
      // idA is no longer the one attached.
      #expect {
        try programs.a.attach(to: veth, mode: .native, method: .netlink(replacing: .program(id: idA)))
      } throws: { error in
        print("replace with stale id: \(error)")
        guard case AttachError.alreadyAttached(_, let cause) = error else { return false }
        return cause.kernelMessage == "Active program does not match expected" && cause.errno == .fileExists
      }
      #expect(try XDP.attachment(on: veth).programID == idB)
      try replaced.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("netlink: .anything replaces whatever is attached")
  func netlinkReplaceAnything() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA, idB = try programs.idB
      // On an empty interface .anything simply attaches.
      let first = try programs.a.attach(to: veth, mode: .native, method: .netlink(replacing: .anything))
      #expect(try XDP.attachment(on: veth).programID == idA)
      _ = try programs.b.attach(to: veth, mode: .native, method: .netlink(replacing: .anything))
      #expect(try XDP.attachment(on: veth).programID == idB)
      // The first attachment's detach removes only its own program, which is gone.
      #expect {
        try first.detach()
      } throws: { error in
        print("detach of a replaced netlink attachment: \(error)")
        guard case AttachError.alreadyAttached(_, let cause) = error else { return false }
        return cause.kernelMessage == "Active program does not match expected" && cause.errno == .fileExists
      }
      #expect(try XDP.attachment(on: veth).programID == idB)
      try XDP.detach(from: veth)
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("netlink: XDP.detach(from:) removes a program in native and in generic mode")
  func netlinkDetachByInterface() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA
      for (mode, expected) in [(XDPAttachMode.native, XDPAttachmentState.Mode.driver), (.generic, .generic)] {
        _ = try programs.a.attach(to: veth, mode: mode, method: .netlink())
        let state = try XDP.attachment(on: veth)
        #expect(state.mode == expected)
        #expect(state.programID == idA)
        try XDP.detach(from: veth)
        #expect(try XDP.attachment(on: veth).mode == .notAttached)
      }
      // Detaching with nothing attached is not an error for the kernel.
      try XDP.detach(from: veth, mode: .native)
    }
  }

  @Test("netlink: XDPLink.replace(with:) swaps the program; detach then removes the new one")
  func netlinkLinkReplace() throws {
    try onVethB { (programs, veth, network) throws in
      let idB = try programs.idB
      let link = try programs.a.attach(to: veth, mode: .native, method: .netlink())
      try link.replace(with: programs.b)
      #expect(try XDP.attachment(on: veth).programID == idB)
      try link.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("a netlink attachment outlives its XDPLink value")
  func netlinkOutlivesValue() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA
      func attachAndDrop() throws { _ = try programs.a.attach(to: veth, mode: .generic, method: .netlink()) }
      try attachAndDrop()
      #expect(try XDP.attachment(on: veth).programID == idA)
      try XDP.detach(from: veth)
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  // MARK: bpf_link and netlink together

  @Test("bpf_link attach while a netlink program is attached is .alreadyAttached, and vice versa")
  func linkVersusNetlink() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA, idB = try programs.idB
      let netlink = try programs.a.attach(to: veth, mode: .native, method: .netlink())
      for mode in [XDPAttachMode.native, .auto] {
        #expect {
          try programs.b.attach(to: veth, mode: mode, method: .link)
        } throws: { error in
          print("link over netlink (\(mode)): \(error)")
          guard case AttachError.alreadyAttached = error else { return false }
          return true
        }
      }
      // A generic-mode link next to a native netlink program: the kernel refuses two modes.
      #expect {
        try programs.b.attach(to: veth, mode: .generic, method: .link)
      } throws: { error in
        print("generic link next to native netlink: \(error)")
        guard case AttachError.alreadyAttached = error else { return false }
        return true
      }
      #expect(try XDP.attachment(on: veth).programID == idA)
      try netlink.detach()

      let link = try programs.b.attach(to: veth, mode: .native, method: .link)
      for policy in [NetlinkReplacePolicy.nothing, .anything, .program(id: idB)] {
        #expect {
          try programs.a.attach(to: veth, mode: .native, method: .netlink(replacing: policy))
        } throws: { error in
          print("netlink (\(policy)) over link: \(error)")
          guard case AttachError.alreadyAttached = error else { return false }
          return true
        }
      }
      // XDP.detach cannot remove a bpf_link's program either.
      #expect {
        try XDP.detach(from: veth)
      } throws: { error in
        print("XDP.detach over link: \(error)")
        guard case AttachError.alreadyAttached = error else { return false }
        return true
      }
      #expect(try XDP.attachment(on: veth).programID == idB)
      try link.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("a second bpf_link on the same interface is .alreadyAttached")
  func secondLink() throws {
    try onVethB { (programs, veth, network) throws in
      let idA = try programs.idA
      let link = try programs.a.attach(to: veth, mode: .native)
      #expect {
        try programs.b.attach(to: veth, mode: .native)
      } throws: { error in
        print("second link: \(error)")
        guard case AttachError.alreadyAttached = error else { return false }
        return true
      }
      #expect(try XDP.attachment(on: veth).programID == idA)
      try link.detach()
    }
  }
}
