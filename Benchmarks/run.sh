#!/usr/bin/env bash
# XDPKit's benchmark suite (Documentation/Benchmarks.md): XDPKit next to libbpf (C) and the
# kernel's floor, in one run, printed as one table.
#
#   bash Benchmarks/run.sh            # the full run (about 2½ minutes on 2 cores, build included,
#                                     # plus about 2 for the callgrind and getrusage runs)
#   bash Benchmarks/run.sh --quick    # fewer samples, for checking that everything works
#   bash Benchmarks/run.sh --no-vm    # without suite 10 (the dispatcher suite boots the 6.1 VM)
#
# Installs what it needs (idempotent apt-get), builds the Swift side in release and the C side
# with gcc -O2 against the system libbpf, makes one network namespace with one veth pair in it,
# runs every suite inside that namespace, and removes the namespace on exit, also on failure.
# No program is attached to anything but that veth pair; no frame is ever sent (the data path is
# measured with BPF_PROG_TEST_RUN). Must run as root. Not part of `swift test`.
set -euo pipefail

quick=0
vm=1
for argument in "$@"; do
  case "$argument" in
    --quick) quick=1 ;;
    --no-vm) vm=0 ;;
    *) echo "usage: bash Benchmarks/run.sh [--quick] [--no-vm]" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "run.sh: needs root (bpf(2), netlink, network namespaces)" >&2
  exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
started=$(date +%s)
log() { echo "[$(( $(date +%s) - started ))s] $*" >&2; }
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"

# ---- What it needs -------------------------------------------------------------------------
need=()
[ -f /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
[ -f /usr/include/xdp/xsk.h ] || need+=(libxdp-dev)    # suite 12: the libxdp side of AF_XDP
[ -f /usr/include/libelf.h ] || need+=(libelf-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
dpkg -s xdp-tools >/dev/null 2>&1 || need+=(xdp-tools)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
bench_install "${need[@]}"
# Optional: perf gives the user-space/kernel split of a load + attach cycle. Not fatal if missing.
if ! command -v perf >/dev/null 2>&1; then
  log "installing linux-perf (optional)"
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null 2>&1; }; } \
    || log "linux-perf not installed: the perf rows will be missing"
fi
bash "$root/.ci/setup"

xdp_filter=$(dpkg -L xdp-tools libxdp1 2>/dev/null | grep '/xdpfilt_alw_ip\.o$' | head -n 1 || true)
largest_shipped=$(dpkg -L xdp-tools libxdp1 2>/dev/null | grep '/xdpfilt_alw_all\.o$' | head -n 1 || true)
[ -n "$xdp_filter" ] && [ -f "$xdp_filter" ] || { echo "run.sh: xdp-tools has no xdpfilt_alw_ip.o" >&2; exit 1; }
clang=${BPF_CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
multiarch=/usr/include/$(gcc -print-multiarch)

# ---- Work directory, namespace, cleanup ------------------------------------------------------
work=$(mktemp -d /tmp/xdpkit-bench.XXXXXX)
namespace="xdpkit-bench-$$"
cleanup() {
  ip netns del "$namespace" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Build -------------------------------------------------------------------------------------
bench_build_swift
log "building the C side (gcc -O2, system libbpf)"
c_bench="$work/libbpf-bench"
gcc -O2 -Wall -Wextra -o "$c_bench" "$here"/C/libbpf_bench.c "$here"/C/bench_*.c -lbpf -lelf -lz
gcc -O2 -Wall -shared -fPIC -o "$work/malloc_count.so" "$here/C/malloc_count.c"
gcc -O2 -Wall -shared -fPIC -o "$work/syscall_cpu.so" "$here/C/syscall_cpu.c" -ldl
# shellcheck source=Benchmarks/xsk.sh
source "$here/xsk.sh"
log "compiling the BPF inputs with $clang"
"$swift_bench" fixtures "$work"
bpf_cflags=(-O2 -g -target bpf -I"$multiarch" -Wall)
"$clang" "${bpf_cflags[@]}" -c "$here/BPF/xdp_drop.c" -o "$work/xdp_drop.o"
"$clang" "${bpf_cflags[@]}" -I"$root/Programs/include" -c "$here/BPF/xdp_log.c" -o "$work/xdp_log.o"
bash "$here/BPF/generate_large.sh" 64 >"$work/large.c"
"$clang" "${bpf_cflags[@]}" -c "$work/large.c" -o "$work/large.o"
bash "$here/BPF/generate_core.sh" >"$work/core100.c"
"$clang" "${bpf_cflags[@]}" -c "$work/core100.c" -o "$work/core100.o"
xsk_build
vmlinux=/sys/kernel/btf/vmlinux

# ---- Network namespace with one veth pair -----------------------------------------------------
bench_namespace

# ---- Settings --------------------------------------------------------------------------------
# Each suite runs in ROUNDS rounds of XDPKit, libbpf, libbpf, XDPKit; the counts below are per
# invocation, so a side gets 2 × ROUNDS × count samples.
if [ "$quick" = 1 ]; then
  rounds=1; attach_n=10; detach_n=5; map_n=3; map_ops=2000; percpu_n=3; percpu_calls=20000
  batch_rounds=1; batch_entries=1000000; dp_rounds=1; dp_n=1; dp_repeat=10000000; parse_n=3; parse_iterations=10
  bulk_n=2; bulk_entries=100000; reload_n=2; log_repeat=100000; log_rounds=1; btf_n=1; btf_iterations=1
  mp_rounds=1; mp_n=1; mp_repeat=100000; globals_n=2; own_n=5; own_repeat=1000000; rusage_n=100
else
  rounds=5; attach_n=20; detach_n=50; map_n=4; map_ops=10000; percpu_n=4; percpu_calls=100000
  batch_rounds=3; batch_entries=1000000; dp_rounds=2; dp_n=3; dp_repeat=10000000; parse_n=5; parse_iterations=50
  bulk_n=10; bulk_entries=100000; reload_n=10; log_repeat=1000000; log_rounds=5; btf_n=3; btf_iterations=5
  mp_rounds=3; mp_n=3; mp_repeat=1000000; globals_n=10; own_n=41; own_repeat=2000000; rusage_n=400
fi

results="$work/results.tsv"
meta() { printf 'meta\t%s\t-\t%s\n' "$1" "$2" >>"$results"; }
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
meta machine "Machine: Linux $(uname -r), $cpu_model, $(nproc) cores, $memory; load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
versions="Versions: libbpf $(dpkg-query -W -f '${Version}' libbpf1 2>/dev/null || echo ?)"
versions+=", xdp-tools $(dpkg-query -W -f '${Version}' xdp-tools 2>/dev/null || echo ?)"
versions+=", $("$clang" --version | head -n 1)"
versions+=", $(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]*')"
versions+=", $(gcc --version | head -n 1)."
meta versions "$versions"
meta settings "Samples per side: attach $((2 * rounds * attach_n)) cycles; maps $((2 * rounds * map_n)) × $map_ops ops; per-CPU $((2 * rounds * percpu_n)) × $percpu_calls calls; batch $((2 * batch_rounds)) × $batch_entries entries; data path $((2 * dp_rounds * dp_n)) rounds × $dp_repeat repeats; parse $((2 * rounds * parse_n)) × $parse_iterations parses; kernel BTF $((2 * rounds * btf_n)) × $btf_iterations parses; xdp-block bulk add $bulk_n × $bulk_entries entries, reload $reload_n × $bulk_entries entries changed (XDPKit only); user/kernel CPU split 2 × $rusage_n cycles per side (getrusage). Each suite alternates XDPKit, libbpf, libbpf, XDPKit processes ($rounds rounds; batch $batch_rounds, data path $dp_rounds)."
meta batch.entries "$batch_entries"
meta bulk.entries "$bulk_entries"
meta reload.entries "$bulk_entries"
meta datapath.repeat "$dp_repeat"
meta logging.repeat "$log_repeat"
meta size.firewall "$(stat -c %s "$work/firewall.o")"
meta size.large "$(stat -c %s "$work/large.o")"
meta size.vmlinux "$(wc -c <"$vmlinux")"
parse_objects=(firewall="$work/firewall.o" large="$work/large.o")
if [ -n "$largest_shipped" ]; then
  meta size.xdpfilter "$(stat -c %s "$largest_shipped")"
  parse_objects+=(xdpfilter="$largest_shipped")
fi

# alternate ROUNDS NAME SWIFT_PREFIX SWIFT_ARGS... -- C_ARGS...: ROUNDS times XDPKit, libbpf,
# libbpf, XDPKit, so that changes in the machine's load during a suite weigh on both sides
# alike and a burst of load during one short process run moves only a few of a side's samples.
alternate() {
  local count=$1 name=$2 swift_prefix=$3; shift 3
  local -a swift_args c_args
  while [ "$1" != -- ]; do swift_args+=("$1"); shift; done
  shift
  c_args=("$@")
  log "$name"
  for ((round = 0; round < count; round++)); do
    # shellcheck disable=SC2086
    in_ns $swift_prefix "$swift_bench" "${swift_args[@]}" >>"$results"
    in_ns "$c_bench" "${c_args[@]}" >>"$results"
    in_ns "$c_bench" "${c_args[@]}" >>"$results"
    # shellcheck disable=SC2086
    in_ns $swift_prefix "$swift_bench" "${swift_args[@]}" >>"$results"
  done
}
preload="env LD_PRELOAD=$work/malloc_count.so"

alternate "$rounds" "1. load + attach + teardown" "" attach xb0 "$attach_n" 2 -- attach "$work/firewall.o" xb0 "$attach_n" 2
log "1. … with explicit link.detach() (XDPKit only)"
in_ns "$swift_bench" attach xb0 "$detach_n" 2 detach >>"$results"
in_ns "$swift_bench" attach xb0 "$detach_n" 2 detach >>"$results"
log "1. system calls per cycle (strace -f)"
for side in xdpkit libbpf; do
  if [ "$side" = xdpkit ]; then cmd=("$swift_bench" attach xb0); else cmd=("$c_bench" attach "$work/firewall.o" xb0); fi
  in_ns strace -f -qq -o "$work/trace-$side-20" "${cmd[@]}" 20 1 >/dev/null
  in_ns strace -f -qq -o "$work/trace-$side-0" "${cmd[@]}" 0 1 >/dev/null
  "$swift_bench" syscalls "$side" "$work/trace-$side-20" "$work/trace-$side-0" 20 >>"$results"
done
log "1. user-space and kernel CPU per cycle (getrusage over $rusage_n cycles per process)"
for side in xdpkit libbpf libbpf xdpkit; do
  if [ "$side" = xdpkit ]; then cmd=("$swift_bench" attach xb0); else cmd=("$c_bench" attach "$work/firewall.o" xb0); fi
  in_ns "${cmd[@]}" "$rusage_n" 5 | grep -E $'\tattach\.cycle\.(user|system)\t' >>"$results"
done
# The exact split: every system call of the cycle timed in the thread's CPU clock by the shim
# (Benchmarks/C/syscall_cpu.c); user space is the rest of the cycle's CPU time.
log "1. user-space CPU per cycle, system calls timed (syscall_cpu.so, $rusage_n cycles per process)"
for side in xdpkit libbpf libbpf xdpkit; do
  if [ "$side" = xdpkit ]; then cmd=("$swift_bench" attach xb0); else cmd=("$c_bench" attach "$work/firewall.o" xb0); fi
  in_ns env LD_PRELOAD="$work/syscall_cpu.so" "${cmd[@]}" "$rusage_n" 5 \
    | grep -E $'\tattach\.cycle\.(user_cpu|syscall_cpu|syscall_count)\t' >>"$results"
done
# The same split per step of the cycle (parse/open, load, attach, teardown), from runs of their
# own: the clock reads between the steps are not in the per-cycle rows above.
log "1. user-space CPU per step of the cycle (syscall_cpu.so, $rusage_n cycles per process)"
for side in xdpkit libbpf libbpf xdpkit; do
  if [ "$side" = xdpkit ]; then cmd=("$swift_bench" attach xb0); else cmd=("$c_bench" attach "$work/firewall.o" xb0); fi
  in_ns env LD_PRELOAD="$work/syscall_cpu.so" "${cmd[@]}" "$rusage_n" 5 phases \
    | grep -E $'\tattach\.phase\.[a-z]+\.(user_cpu|syscall_count)\t' >>"$results"
done
if command -v perf >/dev/null 2>&1 && perf stat -x, -e cycles:u true >/dev/null 2>&1; then
  log "1. user-space and kernel cycles per cycle (perf stat)"
  for side in xdpkit libbpf libbpf xdpkit xdpkit libbpf; do
    if [ "$side" = xdpkit ]; then cmd=("$swift_bench" attach xb0); else cmd=("$c_bench" attach "$work/firewall.o" xb0); fi
    events=cycles:u,instructions:u,cycles:k,instructions:k
    in_ns perf stat -x, -o "$work/perf-$side-20" -e "$events" "${cmd[@]}" 20 1 >/dev/null
    in_ns perf stat -x, -o "$work/perf-$side-0" -e "$events" "${cmd[@]}" 0 1 >/dev/null
    for event in cycles:u instructions:u cycles:k instructions:k; do
      with=$(awk -F, -v e="$event" '$3 == e {print $1}' "$work/perf-$side-20")
      without=$(awk -F, -v e="$event" '$3 == e {print $1}' "$work/perf-$side-0")
      if [[ "$with" =~ ^[0-9]+$ && "$without" =~ ^[0-9]+$ ]]; then
        printf '%s\tattach.%s\tcount\t%s\n' "$side" "${event/:/_}" "$(( (with - without) / 20 ))" >>"$results"
      fi
    done
  done
else
  log "1. perf stat is not usable here: no user/kernel cycle split"
fi
alternate "$rounds" "2. single-element HashMap operations" "$preload" maps "$map_n" "$map_ops" -- maps "$work/firewall.o" "$map_n" "$map_ops"
alternate "$rounds" "4. per-CPU array read + sum" "$preload" percpu "$percpu_n" "$percpu_calls" -- percpu "$percpu_n" "$percpu_calls"
alternate "$batch_rounds" "3. batch insert / lookup of $batch_entries entries" "" batch 1 "$batch_entries" -- batch 1 "$batch_entries"
alternate "$dp_rounds" "5. data path (BPF_PROG_TEST_RUN)" "" datapath "$work" "$dp_repeat" "$dp_n" -- datapath "$work" "$xdp_filter" "$dp_repeat" "$dp_n"
alternate "$rounds" "6. parsing" "" parse "$parse_n" "$parse_iterations" "${parse_objects[@]}" -- parse "$parse_n" "$parse_iterations" "${parse_objects[@]}"
alternate "$rounds" "8. kernel BTF and CO-RE" "" btf "$btf_n" "$btf_iterations" "$vmlinux" "$work/core100.o" -- btf "$btf_n" "$btf_iterations" "$vmlinux"

# Instructions per parse, counted by callgrind (exact and repeatable on a busy machine): the
# whole process run with MANY and with FEW parses (warm-up pass only, no timed samples), the
# difference divided by MANY − FEW, so start-up, the file read and exit cancel out.
# ir_per SIDE METRIC FEW MANY CMD...: CMD is run with "FEW" and "MANY" in place of the word @N@.
ir_per() {
  local side=$1 metric=$2 few=$3 many=$4; shift 4
  local -a counts=()
  for n in "$few" "$many"; do
    local -a cmd=("${@//@N@/$n}")
    counts+=("$("${ir_prefix[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null "${cmd[@]}" 2>&1 >/dev/null \
      | awk '/Collected :/ {print $NF}')")
  done
  if [[ "${counts[0]}" =~ ^[0-9]+$ && "${counts[1]}" =~ ^[0-9]+$ ]]; then
    printf '%s\t%s\tinstructions\t%s\n' "$side" "$metric" "$(( (counts[1] - counts[0]) / (many - few) ))" >>"$results"
  else
    log "callgrind gave no count for $side $metric"
  fi
}
ir_prefix=()
# valgrind 3.19 gives up on the DWARF 5 the Swift toolchain writes ("Possibly corrupted
# debuginfo file"): callgrind runs a copy without debug information (symbols stay).
callgrind_bench="$work/xdpkit-bench-nodebug"
cp "$swift_bench" "$callgrind_bench"
strip --strip-debug "$callgrind_bench"
log "6. and 8. instructions per parse (callgrind)"
for object in "${parse_objects[@]}"; do
  name=${object%%=*}
  ir_per xdpkit "parse.$name.ir" 1 11 "$callgrind_bench" parse 0 @N@ "$object"
  ir_per libbpf "parse.$name.ir" 1 11 "$c_bench" parse 0 @N@ "$object"
done
ir_per xdpkit btf.vmlinux.ir 1 3 "$callgrind_bench" btf 0 @N@ "$vmlinux"
ir_per libbpf btf.vmlinux.ir 1 3 "$c_bench" btf 0 @N@ "$vmlinux"
# The same for a load + attach + teardown cycle: valgrind sees only user space, so this is the
# user-space work per cycle, exactly (getrusage splits user and kernel time at the tick). The
# cycles run as warm-up cycles (0 timed ones), so neither side formats or prints a sample per
# cycle: what is counted is the library's work.
log "1. user-space instructions per load + attach cycle (callgrind)"
ir_prefix=(ip netns exec "$namespace")
ir_per xdpkit attach.cycle.ir 2 7 "$callgrind_bench" attach xb0 0 @N@
ir_per libbpf attach.cycle.ir 2 7 "$c_bench" attach "$work/firewall.o" xb0 0 @N@
ir_prefix=()
log "7. xdp-block bulk add of $bulk_entries addresses (XDPKit only)"
in_ns "$swift_bench" bulk "$bulk_n" "$bulk_entries" >>"$results"
log "13. xdp-block run --config: reload of $bulk_entries entries changed (XDPKit only)"
in_ns "$swift_bench" reload "$reload_n" "$bulk_entries" >>"$results"
log "11. globals after load: mmapped section against bpf(2) (XDPKit only)"
in_ns "$swift_bench" globals "$root/Tests/XDPKitObjectTests/Fixtures/globals.o" "$globals_n" 100000 >>"$results"
log "9. program logging: no logging, filtered, enabled, bpf_printk; the Swift forwarder (XDPKit only)"
in_ns "$swift_bench" logging "$work/xdp_log.o" "$work/frame_ipv4_miss.bin" "$log_repeat" "$log_rounds" >>"$results"
log "12. AF_XDP: RX only, TX only, echo; XDPKit's XDPSocket and libxdp's xsk API"
if [ "$quick" = 1 ]; then xsk_suite 1 5000 50000; else xsk_suite 3 20000 200000; fi

# 10, on the host: each dispatcher's own cost, without a component (freplace is not needed).
# libxdp's dispatcher object is Debian's (libxdp1, with xdp-tools from .ci/setup).
libxdp_dispatcher=/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o
if [ -f "$libxdp_dispatcher" ]; then
  log "10. dispatchers' own cost on the host: XDPKit's and libxdp's, one stub slot, against the floor"
  in_ns "$swift_bench" dispatcher own "$libxdp_dispatcher" "$work/xdp_drop.o" "$work/frame_ipv4_miss.bin" "$own_repeat" "$own_n" >>"$results"
  meta datapath.dispatcher.own.repeat "$own_repeat"
else
  log "10. $libxdp_dispatcher is missing (libxdp1): the dispatchers' own cost is not measured"
fi

# 10. The multi-program dispatcher. Freplace is refused under lockdown, so this suite runs in
# Debian's 6.1 kernel, booted by Tests/VM/run.sh (software emulation: absolute nanoseconds are
# an emulated CPU's; the ratios between the setups, all taken in that VM, are what carry over).
# Per round and program: the program alone, behind XDPKit's dispatcher, behind libxdp's
# (installed by xdp-loader), and again in the reverse order. Its own namespace and veth pair in
# the guest; xdp-loader and XDPKit attach only to that veth.
if [ "$vm" = 1 ]; then
  log "10. multi-program dispatcher: alone, XDPKit's, libxdp's (in the 6.1 VM; about 2 minutes)"
  guest="$work/dispatcher-guest.sh"
  cat >"$guest" <<GUEST
#!/bin/bash
set -euo pipefail
ns=xdpkit-bench-vm
ip netns add \$ns
trap 'nsenter --net=/run/netns/\$ns xdp-loader unload xb0 --all >/dev/null 2>&1 || true; ip netns del \$ns' EXIT
ip -n \$ns link add xb0 type veth peer name xb1
ip -n \$ns link set xb0 up
ip -n \$ns link set xb1 up
# nsenter, not ip netns exec: the latter remounts /sys and hides bpffs, where the dispatchers pin.
in_ns() { nsenter --net=/run/netns/\$ns "\$@"; }
libxdp() {
  in_ns xdp-loader load -m native xb0 "\$1" --prog-name "\$2" >/dev/null
  in_ns "$swift_bench" dispatcher installed xb0 "\$1" "\$2" "\$3" $mp_repeat $mp_n
  in_ns xdp-loader unload xb0 --all >/dev/null
}
for ((round = 0; round < $mp_rounds; round++)); do
  for case in "xdp_drop $work/xdp_drop.o" "xdp_firewall $work/firewall.o"; do
    set -- \$case
    frame=$work/frame_ipv4_miss.bin
    in_ns "$swift_bench" dispatcher direct xb0 "\$2" "\$1" "\$frame" $mp_repeat $mp_n
    in_ns "$swift_bench" dispatcher xdpkit xb0 "\$2" "\$1" "\$frame" $mp_repeat $mp_n
    libxdp "\$2" "\$1" "\$frame"
    libxdp "\$2" "\$1" "\$frame"
    in_ns "$swift_bench" dispatcher xdpkit xb0 "\$2" "\$1" "\$frame" $mp_repeat $mp_n
    in_ns "$swift_bench" dispatcher direct xb0 "\$2" "\$1" "\$frame" $mp_repeat $mp_n
  done
done >"$work/dispatcher.tsv"
printf 'meta\\tdispatcher.kernel\\t-\\t%s\\n' "\$(uname -r)" >>"$work/dispatcher.tsv"
GUEST
  chmod +x "$guest"
  if bash "$root/Tests/VM/run.sh" --script "$guest" --rwdir "$work" --timeout 1200 >"$work/vm.log" 2>&1; then
    cat "$work/dispatcher.tsv" >>"$results"
    meta datapath.dispatcher.repeat "$mp_repeat"
  else
    log "10. the dispatcher suite failed in the VM; its rows are missing. The VM's output:"
    tail -n 30 "$work/vm.log" >&2
  fi
fi

# ---- Report ------------------------------------------------------------------------------------
elapsed=$(( $(date +%s) - started ))
meta runtime "Total run time: ${elapsed} s (build included)."
saved="$here/.build/results"
mkdir -p "$saved"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$results" "$saved/results-$stamp.tsv"
echo
"$swift_bench" report "$results" | tee "$saved/table-$stamp.md"
echo
echo "Total run time: ${elapsed} s. Raw samples: $saved/results-$stamp.tsv"
