#!/bin/sh
# Build a runnable OCI bundle from Debian's busybox-static: DIR/rootfs + DIR/config.json.
# Usage: mkbundle.sh DIR [RUNTIME]   (RUNTIME writes config.json with its `spec`; default: the sample config)
set -eu
dir=${1:?usage: mkbundle.sh DIR [RUNTIME]}
here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkbundle: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'dynamically' && { echo "mkbundle: $bb is not static (install busybox-static)" >&2; exit 1; }
mkdir -p "$dir/rootfs"
cd "$dir/rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/run
chmod 1777 tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list); do
  [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\nextra:x:2000:user\n' > etc/group
cd ..
cp "$here/config.json" config.json
