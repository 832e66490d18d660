#!/usr/bin/env bash
# Rebuilds every fixture object (*.o) from its C source (*.c) in this folder.
#
#   ./build.sh                     # all fixtures
#   ./build.sh globals calls       # only these (names without extension)
#   CLANG=/path/to/clang ./build.sh
#
# Needs a clang with the BPF target (the Swift toolchain's clang works) and
# the kernel uapi headers (linux-libc-dev) and libbpf's bpf_helpers.h
# (libbpf-dev). Warnings are errors. The CPU version is the compiler's
# default (no -mcpu). After rebuilding, re-check the facts in README.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
here=$PWD

clang=${CLANG:-$(command -v clang || true)}
if [[ -z $clang ]]; then
	echo "build.sh: no clang found; set CLANG=/path/to/clang" >&2
	exit 1
fi

flags=(
	-O2 -g -target bpf
	"-I/usr/include/$(uname -m)-linux-gnu"
	-Wall -Werror
	"-fdebug-prefix-map=$here=."
)

if (($# > 0)); then
	names=("$@")
else
	names=()
	for source in *.c; do
		names+=("${source%.c}")
	done
fi

for name in "${names[@]}"; do
	echo "  CC $name.o"
	"$clang" "${flags[@]}" -c "$name.c" -o "$name.o.tmp"
	mv "$name.o.tmp" "$name.o"
done
