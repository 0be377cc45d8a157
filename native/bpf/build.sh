#!/bin/sh
# Builds the libbpf kernel tracer (agents/kernel/: tracer.bpf.c and its loader) into native/bpf/build/srvlens-ktrace.
# Needs clang, bpftool, libbpf-dev (headers and -lbpf) and the running kernel's BTF, from which vmlinux.h is made
# here (CO-RE: the object then loads on any kernel with BTF). Without them srvlens runs the bpftrace program instead;
# scripts/test-deps.sh installs them and runs this. Exits non-zero with the reason when it cannot build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
PATH="$PATH:/usr/sbin"
for tool in clang bpftool; do
  command -v "$tool" >/dev/null 2>&1 || { echo "native/bpf/build.sh: $tool is not installed (apt-get install clang bpftool libbpf-dev)" >&2; exit 1; }
done
# The loader is plain C: the system's compiler, or clang where there is none (a machine with only the packages above).
cc=${CC:-$(command -v cc || command -v clang)}
[ -f /usr/include/bpf/libbpf.h ] || { echo "native/bpf/build.sh: libbpf's headers are not installed (apt-get install libbpf-dev)" >&2; exit 1; }
[ -f /sys/kernel/btf/vmlinux ] || { echo "native/bpf/build.sh: this kernel has no BTF (/sys/kernel/btf/vmlinux)" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) arch=x86 ;;
  aarch64) arch=arm64 ;;
  *) echo "native/bpf/build.sh: $(uname -m) is not a target here (x86_64, aarch64)" >&2; exit 1 ;;
esac
mkdir -p "$out"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$out/vmlinux.h"
clang -target bpf -O2 -g -mcpu=v3 -D__TARGET_ARCH_$arch -Wall -I"$out" -I"$here" -c "$here/tracer.bpf.c" -o "$out/tracer.bpf.o"
bpftool gen skeleton "$out/tracer.bpf.o" name srvlens_tracer > "$out/tracer.skel.h"
"$cc" -O2 -Wall -Wextra -I"$out" -I"$here" "$here/loader.c" -lbpf -o "$out/srvlens-ktrace.tmp"
mv "$out/srvlens-ktrace.tmp" "$out/srvlens-ktrace"
