#!/usr/bin/env bash
# Builds the libFuzzer target over BPFObject(bytes:) with AddressSanitizer and runs it.
#
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags…]      (SECONDS defaults to 60)
#
# The corpus (Fuzz/corpus/) is seeded from the committed fixture objects and grows across
# runs; crashing inputs land in Fuzz/artifacts/. Both are gitignored. Environment:
#   SCRATCH   build directory (default: <repo>/.build-fuzz)
#   JOBS      libFuzzer -jobs/-workers (default 1: fuzz in this process)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
seconds="${1:-60}"
shift || true
scratch="${SCRATCH:-$repo/.build-fuzz}"
jobs="${JOBS:-1}"

# The swiftc driver's -sanitize=fuzzer links libFuzzer's own main with --whole-archive, which
# clashes with the main SwiftPM gives every executable. So: ask the driver for ASan only,
# tell the frontend to instrument as for fuzzer+address (coverage counters, PC table, cmp
# tracing, stack depth), and link the runtime without a main; main.swift calls
# LLVMFuzzerRunDriver itself.
runtime="$(ls /opt/swift/usr/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1 || true)"
if [[ -z "$runtime" ]]; then
  resource="$(dirname "$(dirname "$(command -v swiftc)")")/lib/clang"
  runtime="$(ls "$resource"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1 || true)"
fi
[[ -n "$runtime" ]] || { echo "run.sh: libclang_rt.fuzzer_no_main-x86_64.a not found" >&2; exit 1; }

build=(swift build --package-path "$here" --scratch-path "$scratch" -c release
  -Xswiftc -sanitize=address
  -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address
  -Xlinker --whole-archive -Xlinker "$runtime" -Xlinker --no-whole-archive
  -Xlinker -lstdc++)
echo "+ ${build[*]}"
"${build[@]}"
binary="$("${build[@]}" --show-bin-path)/FuzzBPFObject"

mkdir -p "$here/corpus" "$here/artifacts"
cp -n "$repo"/Tests/XDPKitObjectTests/Fixtures/*.o "$here/corpus/" 2>/dev/null || true

# Swift's own crash backtracer would race ASan and libFuzzer for the fatal signal.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}"

run=("$binary" "$here/corpus"
  -max_total_time="$seconds" -max_len=65536 -print_final_stats=1
  -artifact_prefix="$here/artifacts/")
# With -jobs, libFuzzer forks workers that log to fuzz-N.log; only ask for that when wanted.
if [[ "$jobs" != 1 ]]; then run+=(-jobs="$jobs" -workers="$jobs"); fi
run+=("$@")
echo "+ ${run[*]}"
exec "${run[@]}"
