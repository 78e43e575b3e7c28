#!/usr/bin/env bash
# Build Dockerfile.rootfs (the MiniDock sandbox image) with buildah and push it to REF.
# Offline, and leaves nothing on the host: the build context, buildah's storage (vfs driver,
# --root/--runroot) and a signature policy all live in a temp dir that is removed on exit.
#
# Usage: scripts/build-sandbox.sh REF        e.g. 127.0.0.1:5000/minidock/sandbox:latest
#   REF on 127.0.0.1/localhost/[::1] is pushed over plain HTTP (--tls-verify=false).
# Environment:
#   SANDBOX_VERBOSE=1  show buildah's step-by-step output (default: one line per stage)
#
# Why these flags (Debian 12's buildah 1.28):
#   --isolation chroot  RUN without an OCI runtime: crun, buildah's default, refuses this host's
#                       cgroup v1/v2 hybrid ("cgroups in hybrid mode not supported"), and chroot
#                       isolation needs no cgroups at all.
#   --storage-driver vfs  a private store that needs no mounts on the host, so `rm -rf` removes it.
#   --layers            one layer per COPY/RUN (4 layers): the image exercises a multi-layer pull
#                       and an overlay with several lower dirs.
set -euo pipefail

ref=${1:?usage: build-sandbox.sh REF}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v buildah >/dev/null || { echo "build-sandbox: buildah missing (apt-get install buildah)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/minidock-sandbox-build.XXXXXX")
cleanup() {
  local m
  # buildah's vfs store mounts nothing on the host; unmount defensively before removing.
  awk -v d="$work" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$repo/scripts/rootfs-context.sh" "$work/ctx"
# A private policy: the host's /etc/containers/policy.json may be stricter (or missing).
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$work/policy.json"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
b=(buildah --root "$work/root" --runroot "$work/runroot" --storage-driver vfs)
local_name=localhost/minidock/sandbox:build

quiet=(-q)
[[ -n ${SANDBOX_VERBOSE:-} ]] && quiet=()
"${b[@]}" bud "${quiet[@]}" --isolation chroot --layers --signature-policy "$work/policy.json" \
  -f "$repo/Dockerfile.rootfs" -t "$local_name" "$work/ctx" >"$work/build.log" 2>&1 || {
  cat "$work/build.log" >&2
  echo "build-sandbox: buildah bud failed" >&2
  exit 1
}
[[ -n ${SANDBOX_VERBOSE:-} ]] && cat "$work/build.log"
layers=$("${b[@]}" inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$local_name")
echo "built Dockerfile.rootfs: $layers layers ($(buildah --version | awk '{print $1, $3}'), --isolation chroot)"

tls=()
case $ref in 127.0.0.1[:/]* | localhost[:/]* | \[::1\][:/]*) tls=(--tls-verify=false) ;; esac
digest=$("${b[@]}" push -q "${tls[@]}" --signature-policy "$work/policy.json" \
  --digestfile "$work/digest" "$local_name" "docker://$ref" 2>"$work/push.log" && cat "$work/digest") || {
  cat "$work/push.log" >&2
  echo "build-sandbox: buildah push to docker://$ref failed" >&2
  exit 1
}
echo "pushed $ref ($digest)"
