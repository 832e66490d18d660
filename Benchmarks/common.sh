#!/usr/bin/env bash
# Shared set-up of Benchmarks/run.sh and Benchmarks/xsk.sh, sourced by both (it runs nothing
# by itself). The caller sets `here` (Benchmarks/) and `root` (the package), and defines `log`.

# bench_install NAME...: installs the Debian packages named (idempotent apt-get), if any.
bench_install() {
  [ $# -gt 0 ] || return 0
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# bench_build_swift: the Swift side in release; sets swift_bench. The suites inline XDPKit's
# @inlinable map paths and SwiftPM does not always recompile a client when only an inlinable
# body in a dependency changed, so the suites are touched to be rebuilt against the library as
# it is now.
bench_build_swift() {
  log "building the Swift side (release)"
  touch "$here"/Sources/xdpkit-bench/*.swift "$here/Package.swift"
  swift build -c release --package-path "$here" >"$work/swift-build.log" 2>&1 \
    || { cat "$work/swift-build.log" >&2; exit 1; }
  swift_bench="$here/.build/release/xdpkit-bench"
}

# bench_namespace: creates network namespace $namespace with one veth pair xb0/xb1, both up, no
# addresses and no routes, and defines in_ns. The caller's EXIT trap deletes the namespace.
bench_namespace() {
  ip netns add "$namespace"
  ip -n "$namespace" link add xb0 type veth peer name xb1
  ip -n "$namespace" link set xb0 up
  ip -n "$namespace" link set xb1 up
  in_ns() { ip netns exec "$namespace" "$@"; }
}
