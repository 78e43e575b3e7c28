#!/usr/bin/env bash
# `make demo`: the whole path, on a fresh machine, leaving nothing behind.
#   1. a docker-registry on a free 127.0.0.1 port (temp config and storage: scripts/registry.sh)
#   2. Dockerfile.rootfs built with buildah (--isolation chroot, private vfs store) and pushed there
#   3. bin/minidock pull, images, run ... with MINIDOCK_ROOT=out/demo, all in ONE shell inside
#      `unshare -m --propagation private`: every mount a container makes dies with that shell
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
  local ref=$1 rc
  step "bin/minidock pull $ref"
  "$MD" pull "$ref"
  step "bin/minidock images"
  "$MD" images
  minidock_has_run || die "bin/minidock has no \`run\` command yet (the run milestone is not built in): stopping after the pull"
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
  step "bin/minidock ps -a   (--rm left no container behind)"
  "$MD" ps -a
}

if [[ ${1:-} == --inside ]]; then
  export MINIDOCK_ROOT=$DEMO_ROOT
  inside "$2"
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
