#!/bin/sh
# Installs the Debian packages the tests run against, only those missing: nginx and apache2 (servers nobody here
# wrote, for the /proc agent's tests), python3 (its standard-library servers, same tests), tmux (the dashboard's
# tests), wrk (the generator bench, a peer to compare against), prometheus (the real scraper of the Node agent's
# Prometheus endpoint), chromium (the HTML report's test renders the page in a real browser, headless), bpftrace
# (the kernel tracer's fallback, agents/kernel/: eBPF tracepoints, as root; srvlens mounts tracefs itself), and
# clang, bpftool and libbpf-dev, with which it then builds the kernel tracer's default, the libbpf one
# (native/bpf/build.sh: CO-RE against this kernel's BTF; without them srvlens runs bpftrace instead). Debian's
# prometheus and apache2 packages would start their own daemons (on :9090, :80) where
# services can start (their postinst goes through invoke-rc.d/deb-systemd-invoke, so a policy-rc.d or a container
# without an init leaves them stopped): the tests never use those, they start their own on a free port.
# Idempotent and quiet: when everything is there it does nothing, and apt-get runs only for what is missing.
set -eu

missing=""
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have nginx || missing="$missing nginx"
have apache2 || missing="$missing apache2"
have python3 || missing="$missing python3"
have tmux || missing="$missing tmux"
have wrk || missing="$missing wrk"
have prometheus || missing="$missing prometheus"
have chromium || missing="$missing chromium"
have bpftrace || missing="$missing bpftrace"
have clang || missing="$missing clang"
have bpftool || missing="$missing bpftool"
[ -f /usr/include/bpf/libbpf.h ] || missing="$missing libbpf-dev"

# The libbpf kernel tracer, once its tools are there; where the kernel has no BTF it is not built (said by the script).
build_bpf() {
  bin="$(dirname "$0")/../native/bpf/build/srvlens-ktrace"
  # Rebuilt when a source is newer than the binary (a checkout that changed the program), else kept.
  [ -x "$bin" ] && [ -z "$(find "$(dirname "$0")/../native/bpf" -maxdepth 1 -newer "$bin" \( -name '*.c' -o -name '*.h' -o -name '*.sh' \))" ] && return 0
  sh "$(dirname "$0")/../native/bpf/build.sh" || echo "test-deps: the libbpf kernel tracer was not built; the kernel tracer runs bpftrace" >&2
}
[ -z "$missing" ] && { build_bpf; exit 0; }

if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing:$missing; apt-get is not here, so install them with this system's package manager" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "test-deps: installing$missing" >&2
$sudo apt-get update -qq
# sudo resets the environment, so the frontend goes through env. $missing is a list of names, split on purpose.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
build_bpf
