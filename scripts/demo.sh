#!/usr/bin/env bash
# `make demo`: the whole path, on a fresh machine, leaving nothing behind.
#   1. a docker-registry on a free 127.0.0.1 port (temp config and storage: scripts/registry.sh)
#   2. Dockerfile.rootfs built with buildah (--isolation chroot, private vfs store) and pushed there
#   3. bin/minidock pull, images, run ... with MINIDOCK_ROOT=out/demo, all in ONE shell inside
#      `unshare -m --propagation private`: every mount a container makes dies with that shell;
#      the runs in a network namespace of their own (bridge, a published port, a named network
#      with DNS), so this machine's network is never changed
# On exit (success, failure or ^C) the registry is stopped and the temp dir and out/demo removed
# (DEMO_KEEP=1 keeps out/demo, to go on by hand: MINIDOCK_ROOT=out/demo bin/minidock images).
# Needs root and what `make deps` installs; `make demo` runs `deps build` first.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MD=$REPO/bin/minidock
DEMO_ROOT=$REPO/out/demo

step() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

minidock_has_run() {
  "$MD" run --help 2>/dev/null | grep -Eq '^[[:space:]]+minidock run\b' && return 0
  "$MD" --help 2>/dev/null | grep -Eq '^[[:space:]]+run\b'
}

# ---- the part inside the private mount namespace (re-exec'd: `demo.sh --inside REF`) -----

inside() {
  local ref=$1
  step "bin/minidock pull $ref"
  "$MD" pull "$ref"
  step "bin/minidock images"
  "$MD" images
  minidock_has_run || die "bin/minidock has no \`run\` command yet (the run milestone is not built in): stopping after the pull"
  # The containers get bridge networking: in a network namespace of the demo's own (lo up), so the
  # bridges, NAT rules and ip_forward never touch this machine's network.
  unshare -n bash "$REPO/scripts/demo.sh" --runs "$ref"
}

runs() {
  local ref=$1 rc
  ip link set lo up
  step "bin/minidock run --rm IMAGE sh -c 'echo hello from \$(hostname); id; ls -C /'"
  # shellcheck disable=SC2016  # $(hostname) is for the container's shell
  "$MD" run --rm "$ref" sh -c 'echo hello from $(hostname); id; ls -C /'
  step "bin/minidock run --rm -e GREETING=hi -u dev IMAGE sh -c '...'   (environment, user, a writable /tmp)"
  # shellcheck disable=SC2016  # expanded by the container's shell
  "$MD" run --rm -e GREETING=hi -u dev "$ref" \
    sh -c 'echo "$GREETING from $(whoami), HOME=$HOME, PATH=$PATH"; id; touch /tmp/was-here && ls -l /tmp/was-here'
  step "bin/minidock run --rm IMAGE sh -c 'exit 3'   (the container's exit code is minidock's)"
  rc=0
  "$MD" run --rm "$ref" sh -c 'exit 3' || rc=$?
  echo "exit code: $rc"
  ((rc == 3)) || die "expected exit code 3, got $rc"
  step "bin/minidock run -d --name web -p 127.0.0.1:8080:80 IMAGE httpd -f -p 80 -h /etc   (bridge + NAT, a published port)"
  "$MD" run -d --name web -p 127.0.0.1:8080:80 "$ref" httpd -f -p 80 -h /etc
  "$MD" port web
  step "wget -qO- http://127.0.0.1:8080/hostname   (from outside the container: its /etc/hostname)"
  local got="" i
  for i in $(seq 50); do got=$(busybox wget -qO- http://127.0.0.1:8080/hostname 2>/dev/null) && break; sleep 0.1; done
  echo "$got"
  [[ -n $got ]] || die "the published port did not answer"
  step "bin/minidock network create demo-net; two containers on it find each other by name (embedded DNS)"
  "$MD" network create demo-net >/dev/null
  "$MD" run -d --name db --network demo-net "$ref" httpd -f -p 80 -h /etc >/dev/null
  "$MD" run --rm --network demo-net "$ref" sh -c 'nslookup db | sed -n "/^Name/,/^Address/p"; echo "db says: $(wget -qO- http://db/hostname)"'
  step "bin/minidock ps"
  "$MD" ps
  "$MD" rm -f web db >/dev/null
  "$MD" network rm demo-net >/dev/null
  step "bin/minidock ps -a   (--rm and rm -f left no container behind; no bridge left either)"
  "$MD" ps -a
  ip -o link show | awk -F': ' '{print $2}'
}

if [[ ${1:-} == --inside ]]; then
  export MINIDOCK_ROOT=$DEMO_ROOT
  inside "$2"
  exit 0
fi

if [[ ${1:-} == --runs ]]; then
  export MINIDOCK_ROOT=$DEMO_ROOT
  runs "$2"
  exit 0
fi

# ---- outside: registry, image, then one private-namespace shell for every minidock command -----

[[ $(id -u) == 0 ]] || die "run as root (containers need it)"
[[ -x $MD ]] || die "$MD is not built: run \`make build\` (or \`make demo\`, which builds first)"
for tool in buildah docker-registry unshare ss; do
  command -v "$tool" >/dev/null || die "$tool missing: run \`make deps\` (apt-get install buildah docker-registry util-linux iproute2)"
done
# shellcheck source=scripts/registry.sh
. "$REPO/scripts/registry.sh"

if awk -v d="$DEMO_ROOT" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
  die "something is mounted under $DEMO_ROOT; unmount it first"
fi
rm -rf --one-file-system -- "$DEMO_ROOT"
mkdir -p "$DEMO_ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/minidock-demo.XXXXXX")

cleanup() {
  local rc=$?
  set +e
  stop_registry
  rm -rf --one-file-system -- "$WORK"
  if [[ -z ${DEMO_KEEP:-} ]]; then
    rm -rf --one-file-system -- "$DEMO_ROOT"
  fi
  if ((rc == 0)); then
    step "done: registry stopped, temp files removed${DEMO_KEEP:+ (out/demo kept)}"
  else
    printf '\ndemo: failed (exit %s); registry stopped, temp files removed\n' "$rc" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

step "docker-registry on 127.0.0.1 (temp config and storage)"
start_registry "$WORK/registry"
REF=127.0.0.1:$REGISTRY_PORT/minidock/sandbox:latest
echo "serving on 127.0.0.1:$REGISTRY_PORT"

step "buildah bud -f Dockerfile.rootfs, buildah push $REF"
"$REPO/scripts/build-sandbox.sh" "$REF"

# One shell for all of minidock's commands, in its own mount namespace (private propagation):
# whatever the containers mount is gone when it exits, even after a failure.
unshare -m --propagation private bash "$REPO/scripts/demo.sh" --inside "$REF"
