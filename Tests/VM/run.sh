#!/usr/bin/env bash
# Runs XDPKit's kernel tests inside a VM that boots Debian's 6.1 kernel (linux-image-amd64)
# over this machine's root file system, with virtme-ng, in software emulation.
#
#   Tests/VM/run.sh                 # the CI subset (trampolines + a slice of each kernel suite)
#   Tests/VM/run.sh --all           # every test (before a release: about an hour)
#   Tests/VM/run.sh --filter REGEX  # chosen tests (swift-testing --filter; repeatable)
#   Tests/VM/run.sh --script FILE --rwdir DIR  # FILE (executable) in the guest instead of tests
#
# Options: --timeout SECONDS (default 1500; the VM is killed after it), --kernel PATH (default:
# the newest /boot/vmlinuz-6.1.*), --no-build (use the test binary as it is), --rwdir DIR (a
# host directory the guest may write, repeatable; the root file system is read-only there).
#
# It installs what it needs (qemu-system-x86, linux-image-amd64, busybox-static, and virtme-ng
# in a venv under /var/cache/xdpkit-vm), builds the test binary on the host, boots the kernel,
# mounts bpffs and securityfs in the guest, runs the tests with XDPKIT_REQUIRE_PRIVILEGED=1,
# prints the guest's kernel release and lockdown mode, and exits with the tests' status
# (124 on timeout, 3 when the VM gave no status). Run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD

# Every test that needs BPF trampolines, plus a representative slice of the kernel suites:
# loader (with externs and CO-RE against 6.1's BTF), maps, attach, pinning, and the firewall
# end to end.
ci_filters=(
  'TrampolineTests'
  'MultiProgram'
  'LoaderTests'
  'ExternLoadTests'
  'CORELoadTests'
  'BTFSanitizerTests'
  'XDPStatusCommandTests'
  'KernelFeaturesTests'
  'GlobalDataMappingTests'
  'MultiProgramKillTests'
  'MapFixupTests'
  'SectionConventionTests'
  'XDPKitMapsTests\.HashMapTests'
  'XDPKitMapsTests\.LPMTrieTests'
  'XDPKitMapsTests\.RingBufferTests'
  'AttachTests'
  'PinningTests'
  'FirewallTrafficTests'
  # AF_XDP on 6.1 (about 8 minutes in the VM): sockets, limits, shared UMEM, async API, ring.
  'XDPSocketTests'
  'XDPSocketLimitTests'
  'XDPSharedUMEMTests'
  'XDPAsyncSocketTests'
  'XDPRingTests'
  # xdp-block next to xdp-loader's program (about 2.5 minutes in the VM); the rest of the suite
  # (empty interface, stale state, SIGKILL sweeps: about 10 more) with --filter XDPBlockDispatcherTests.
  'XDPBlockDispatcherTests/coexistsWithXDPLoader'
)

filters=()
all=0
timeout_seconds=1500
kernel=""
build=1
script=""
rwdirs=()
while (($# > 0)); do
  case $1 in
    --all) all=1 ;;
    --filter) filters+=("$2"); shift ;;
    --timeout) timeout_seconds=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --no-build) build=0 ;;
    --script) script=$2; build=0; shift ;;
    --rwdir) rwdirs+=(--rwdir "$2"); shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "vm: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((all == 0 && ${#filters[@]} == 0)); then filters=("${ci_filters[@]}"); fi

# --- What the VM needs (idempotent) -------------------------------------------------------
cache=/var/cache/xdpkit-vm
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
compgen -G '/boot/vmlinuz-6.1.*' >/dev/null || need+=(linux-image-amd64)
[ -x /bin/busybox ] || need+=(busybox-static)
if ((${#need[@]} > 0)); then
  echo "vm: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -x "$cache/venv/bin/vng" ]; then
  echo "vm: installing virtme-ng into $cache/venv" >&2
  mkdir -p "$cache"
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet virtme-ng
fi
vng=$cache/venv/bin/vng
# vng starts its helpers (virtme-run, …) by name: they are in the venv, not on the PATH.
export PATH="$cache/venv/bin:$PATH"

if [ -z "$kernel" ]; then
  kernel=$(ls -1 /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1)
fi
[ -r "$kernel" ] || { echo "vm: no kernel image at '$kernel'" >&2; exit 2; }

# --- The test binary ----------------------------------------------------------------------
if [ -n "$script" ]; then
  [ -x "$script" ] || { echo "vm: $script is not an executable file" >&2; exit 2; }
elif ((build)); then
  swift build --build-tests >&2
fi
bin=$(swift build --show-bin-path)
[ -n "$script" ] || [ -x "$bin/XDPKitPackageTests.xctest" ] || {
  echo "vm: no test binary in $bin (build with swift build --build-tests)" >&2; exit 2; }

# The guest runs a snapshot of the products (the test binary finds xdpkit and xdp-block beside
# itself), so that a build on the host during a long VM run cannot change them underneath it.
state=$repo/.build/vm-$$
trap 'rm -rf "$state"' EXIT
rm -rf "$state"
mkdir -p "$state/bin"
if [ -z "$script" ]; then
  find "$bin" -maxdepth 1 -type f -perm -u+x -exec cp {} "$state/bin/" \;
  find "$bin" -maxdepth 1 -type d -name '*.resources' -exec cp -r {} "$state/bin/" \;
fi
binary=$state/bin/XDPKitPackageTests.xctest

# --- The guest's script -------------------------------------------------------------------
args=(--testing-library swift-testing)
for f in "${filters[@]}"; do args+=(--filter "$f"); done
{
  echo '#!/bin/sh'
  echo 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf 2>/dev/null || true'
  echo 'mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true'
  echo 'mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true'
  echo 'echo "vm: guest kernel $(uname -r), lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo unknown)"'
  echo 'export XDPKIT_REQUIRE_PRIVILEGED=1 XDPKIT_IN_VM=1'
  if [ -n "$script" ]; then
    printf '%q\n' "$(cd "$(dirname "$script")" && pwd)/$(basename "$script")"
  else
    printf '%q ' "$binary" "${args[@]}"
    echo
  fi
  echo "echo \$? > $(printf '%q' "$state/status")"
} > "$state/guest.sh"
chmod +x "$state/guest.sh"

echo "vm: booting $kernel ($(basename "$kernel" | sed 's/^vmlinuz-//')), TCG, 2 CPUs, 3 GiB; timeout ${timeout_seconds}s"
if [ -n "$script" ]; then echo "vm: script: $script"; else echo "vm: tests: ${filters[*]:-all}"; fi
start=$(date +%s)
set +e
# Through a pipe: QEMU reopens a file given as its standard output and truncates it, which would
# erase whatever the caller (CI's log) had written before.
timeout --kill-after=30 "$timeout_seconds" \
  "$vng" --run "$kernel" --user root --disable-kvm --memory 3G --cpus 2 \
    --rwdir "$state" "${rwdirs[@]}" --cwd "$repo" -- "$state/guest.sh" </dev/null 2>&1 | cat
vm_status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
if ((vm_status == 124 || vm_status == 137)); then
  echo "vm: timed out after ${elapsed}s" >&2
  exit 124
fi
if [ ! -s "$state/status" ]; then
  echo "vm: the VM exited ($vm_status) after ${elapsed}s without reporting a test status" >&2
  exit 3
fi
status=$(cat "$state/status")
echo "vm: ${script:+script }${script:-tests} exited with $status after ${elapsed}s on $(basename "$kernel" | sed 's/^vmlinuz-//')"
exit "$status"
