#!/usr/bin/env bash
# Builds the libFuzzer targets over the object reader with AddressSanitizer and runs one.
#
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags…]      (SECONDS defaults to 60; 0 = no limit)
#
# Environment:
#   TARGET    object (default): BPFObject(bytes:) over whole files, corpus Fuzz/corpus/,
#             seeded with Tests/XDPKitObjectTests/Fixtures/*.o;
#             btf: BTF(bytes:) and BTFExt(bytes:btf:) over section contents, corpus
#             Fuzz/corpus-btf/, seeded with the fixtures' .BTF and .BTF.ext (llvm-objcopy).
#   SCRATCH   build directory (default: <repo>/.build-fuzz)
#   JOBS      libFuzzer -jobs/-workers (default 1: fuzz in this process)
# Corpora grow across runs; crashing inputs land in Fuzz/artifacts/. All are gitignored.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
seconds="${1:-60}"
shift || true
scratch="${SCRATCH:-$repo/.build-fuzz}"
jobs="${JOBS:-1}"
target="${TARGET:-object}"

# The swiftc driver's -sanitize=fuzzer links libFuzzer's own main with --whole-archive, which
# clashes with the main SwiftPM gives every executable. So: ask the driver for ASan only,
# tell the frontend to instrument as for fuzzer+address (coverage counters, PC table, cmp
# tracing, stack depth), and link the runtime without a main; each target's main.swift calls
# LLVMFuzzerRunDriver itself.
swiftc_path="$(command -v swiftc || true)"
runtime=""
for dir in /opt/swift/usr/lib/clang ${swiftc_path:+"$(dirname "$(dirname "$swiftc_path")")/lib/clang"}; do
  runtime="$(ls "$dir"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1 || true)"
  [[ -n "$runtime" ]] && break
done
[[ -n "$runtime" ]] || { echo "run.sh: libclang_rt.fuzzer_no_main-x86_64.a not found" >&2; exit 1; }

build=(swift build --package-path "$here" --scratch-path "$scratch" -c release
  -Xswiftc -sanitize=address
  -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address
  -Xlinker --whole-archive -Xlinker "$runtime" -Xlinker --no-whole-archive
  -Xlinker -lstdc++)
echo "+ ${build[*]}"
"${build[@]}"
bin="$("${build[@]}" --show-bin-path)"

fixtures="$repo/Tests/XDPKitObjectTests/Fixtures"
case "$target" in
  object)
    binary="$bin/FuzzBPFObject"
    corpus="$here/corpus"
    mkdir -p "$corpus"
    for object in "$fixtures"/*.o; do
      [[ -e "$corpus/$(basename "$object")" ]] || cp "$object" "$corpus/"
    done
    ;;
  btf)
    binary="$bin/FuzzBTF"
    corpus="$here/corpus-btf"
    mkdir -p "$corpus"
    objcopy="${LLVM_OBJCOPY:-$(command -v llvm-objcopy || echo /opt/swift/usr/bin/llvm-objcopy)}"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # Seed layout: 4-byte little-endian length of .BTF, .BTF, then .BTF.ext.
    le32() {
      local n=$1
      printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) \
        $((n >> 16 & 255)) $((n >> 24 & 255)))"
    }
    for object in "$fixtures"/*.o; do
      seed="$corpus/$(basename "$object" .o).btf"
      [[ -e "$seed" ]] && continue
      "$objcopy" --dump-section ".BTF=$tmp/btf" "$object" "$tmp/out" 2>/dev/null || continue
      "$objcopy" --dump-section ".BTF.ext=$tmp/ext" "$object" "$tmp/out" 2>/dev/null || : >"$tmp/ext"
      { le32 "$(stat -c %s "$tmp/btf")"; cat "$tmp/btf" "$tmp/ext"; } >"$seed"
    done
    ;;
  *) echo "run.sh: TARGET must be object or btf, not '$target'" >&2; exit 1 ;;
esac
mkdir -p "$here/artifacts"

# Swift's own crash backtracer would race ASan and libFuzzer for the fatal signal.
export SWIFT_BACKTRACE=enable=no

run=("$binary" "$corpus"
  -max_total_time="$seconds" -max_len=65536 -print_final_stats=1
  -artifact_prefix="$here/artifacts/$target-")
# With -jobs, libFuzzer forks workers that log to fuzz-N.log; only ask for that when wanted.
if [[ "$jobs" != 1 ]]; then run+=(-jobs="$jobs" -workers="$jobs"); fi
run+=("$@")
echo "+ ${run[*]}"
exec "${run[@]}"
