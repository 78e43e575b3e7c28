#!/bin/sh
# Prepare the build context of Dockerfile.rootfs (the MiniDock sandbox image) in OUTDIR:
#   OUTDIR/busybox     Debian's static busybox (/bin/busybox from busybox-static)
#   OUTDIR/etc/        passwd, group and hosts from samples/sandbox/etc (the checked-in sources),
#                      and empty hostname and resolv.conf (mode 0644: they replace the empty 0755
#                      placeholders buildah's chroot RUN leaves behind)
# Then: buildah bud --isolation chroot -f Dockerfile.rootfs OUTDIR   (see samples/sandbox/README.md)
# Usage: scripts/rootfs-context.sh OUTDIR
set -eu
out=${1:?usage: rootfs-context.sh OUTDIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
bb=/bin/busybox
[ -x "$bb" ] || { echo "rootfs-context: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
if file -L "$bb" 2>/dev/null | grep -q 'dynamically'; then
  echo "rootfs-context: $bb is dynamically linked (apt-get install busybox-static)" >&2
  exit 1
fi
mkdir -p "$out/etc"
cp "$bb" "$out/busybox"
chmod 0755 "$out/busybox"
for f in passwd group hosts; do
  cp "$repo/samples/sandbox/etc/$f" "$out/etc/$f"
done
: >"$out/etc/hostname"
: >"$out/etc/resolv.conf"
chmod 0644 "$out/etc/"*
