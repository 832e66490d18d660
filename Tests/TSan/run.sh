#!/usr/bin/env bash
# The AF_XDP ring index protocol under ThreadSanitizer (issue 14): compiles
# Sources/XDPKit/AFXDP/XDPRing.swift with Tests/TSan/main.swift using `swiftc -sanitize=thread`
# (the ring alone: no need to build the whole package with TSan), optimised: at -Onone the
# raw-pointer loads and stores stay calls into the (uninstrumented) standard library and
# ThreadSanitizer sees none of them, which the self-test catches. Then
#   1. runs the self-test, an intentional race, and fails unless ThreadSanitizer reports it,
#   2. runs a producer and a consumer thread through one ring (200,000 values by default) and
#      fails on any ThreadSanitizer report or a value out of order.
# Usage: Tests/TSan/run.sh [VALUES]. Needs no root and no kernel feature.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d /tmp/xdpkit-tsan.XXXXXX)
trap 'rm -rf "$work"' EXIT
swiftc -swift-version 6 -sanitize=thread -g -O -module-name RingTSan \
  Sources/XDPKit/AFXDP/XDPRing.swift Tests/TSan/main.swift -o "$work/ring-tsan"
export TSAN_OPTIONS="halt_on_error=0 exitcode=66"
status=0
"$work/ring-tsan" selftest >"$work/selftest.log" 2>&1 || status=$?
if [ "$status" != 66 ] || ! grep -q 'WARNING: ThreadSanitizer: data race' "$work/selftest.log"; then
  cat "$work/selftest.log" >&2
  echo "tsan: the self-test's race was not reported (status $status): ThreadSanitizer is not active" >&2
  exit 1
fi
echo "tsan: self-test: ThreadSanitizer reports an intentional race (exit 66)"
"$work/ring-tsan" "${1:-200000}"
echo "tsan: ring protocol: no data race, every value in order"
