#!/usr/bin/env bash
# MiniDock benchmarks (`make bench`). Run as root.
#
# Usage: bash bench/bench.sh [SECTION...]     (default: all sections)
#   runtime   OCI runtime `run` + `delete -f` of a busybox /bin/true bundle:
#             MiniDock (bin/minidock-runtime) vs runc vs crun, timed by hyperfine.
#   pull      pull of a 5-layer image from a loopback docker-registry, each run into an
#             empty store: MiniDock (bin/minidock) vs podman vs skopeo (+ umoci unpack).
#   run       `run --rm --network none IMAGE true` of the sandbox image (Dockerfile.rootfs, built
#             with buildah, pushed to a loopback docker-registry, pulled beforehand):
#             MiniDock (bin/minidock run) vs podman run, with runc run of a prepared bundle
#             for reference; and both again with `--network bridge` (CNI), all inside a
#             network namespace of the benchmark's own.
#
# Environment:
#   BENCH_RUNS        hyperfine --runs per command of `runtime` (default 30); warmup is always 3.
#   BENCH_PULL_RUNS   hyperfine --runs per command of `pull` (default 10); warmup is always 1.
#   BENCH_RUN_RUNS    hyperfine --runs per command of `run` (default 20); warmup is always 3.
#
# The markdown report goes to stdout; hyperfine's progress and notes go to stderr,
# so `bash bench/bench.sh > results.md` captures only the report.
#
# Adding a section: write `bench_NAME`, add NAME to SECTIONS below. Use `need_tools`
# for what it needs, `$WORK` for scratch space (removed on exit) and `on_exit` to
# register extra cleanup commands.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECTIONS=(runtime pull run)
WARMUP=3
RUNS=${BENCH_RUNS:-30}
PULL_WARMUP=1
PULL_RUNS=${BENCH_PULL_RUNS:-10}
RUN_WARMUP=3
RUN_RUNS=${BENCH_RUN_RUNS:-20}
# cgroupsPath is /minidock-bench/<runtime> for every runtime (absolute: outside our own cgroup)
CG_NAME="minidock-bench"
WORK=""
REGISTRY_PORT=""
CLEANUP_CMDS=()

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- cleanup -------------------------------------------------------------------------

on_exit() { CLEANUP_CMDS+=("$1"); }

cleanup() {
  local rc=$? i
  set +e
  # Registered commands run newest first (containers before the dirs they live in).
  for ((i = ${#CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
    eval "${CLEANUP_CMDS[i]}" >/dev/null 2>&1
  done
  remove_bench_cgroups
  [[ -n $WORK && -d $WORK ]] && rm -rf -- "$WORK"
  exit "$rc"
}

# Remove /sys/fs/cgroup/*/minidock-bench (v1 controllers, the hybrid unified tree, or a
# pure v2 root): leaf directories first, with rmdir (cgroupfs refuses rm -r).
remove_bench_cgroups() {
  local d left=()
  for d in /sys/fs/cgroup/*/"$CG_NAME" /sys/fs/cgroup/"$CG_NAME"; do
    [[ -d $d ]] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    [[ -d $d ]] && left+=("$d")
  done
  ((${#left[@]} == 0)) || log "warning: could not remove cgroup dirs (still in use?): ${left[*]}"
  return 0
}

# ---- setup ---------------------------------------------------------------------------

# need_tools CMD:PACKAGE... — apt-get install the packages whose command is missing.
# (The Makefile runs apt-get update before calling us.)
need_tools() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd=${spec%%:*} pkg=${spec#*:}
    case $cmd in
      busybox-static) have_static_busybox || missing+=("$pkg") ;;
      *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
    esac
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing missing packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

have_static_busybox() {
  [[ -x /bin/busybox ]] || return 1
  ! { command -v file >/dev/null 2>&1 && file -L /bin/busybox | grep -q dynamically; }
}

# Paths end up inside hyperfine command strings (split by hyperfine, then by sh -c):
# refuse anything that would need quoting.
plain_path() { [[ $1 =~ ^[A-Za-z0-9_./+-]+$ ]] || die "path needs quoting, unsupported: '$1'"; }

machine_line() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
  printf 'Machine: %s CPUs (nproc)%s, kernel %s %s\n' "$(nproc)" "${cpu:+, $cpu}" "$(uname -r)" "$(uname -m)"
}

# md_table JSON COLUMN REF NAME... — markdown table from hyperfine 1.15 --export-json
# (seconds). COLUMN heads the first column; NAMEs label the results in order; ratio is
# median / median of the result named REF (n/a when there is none).
md_table() {
  local json=$1 column=$2 ref=$3; shift 3
  jq -r --arg column "$column" --arg ref "$ref" '
    def f2: (. * 100 | round) as $n
            | "\($n / 100 | floor).\($n % 100 | tostring | if length < 2 then "0" + . else . end)";
    ($ARGS.positional) as $names
    | [.results | to_entries[] | .value + {name: $names[.key]}] as $rs
    | ([$rs[] | select(.name == $ref) | .median][0]) as $base
    | "| \($column) | median (ms) | mean ± σ (ms) | ratio vs \($ref) |",
      "|---|---:|---:|---:|",
      ($rs[] | "| \(.name) | \(.median * 1000 | f2) | \(.mean * 1000 | f2) ± \((.stddev // 0) * 1000 | f2) | "
               + (if $base then (.median / $base | f2) else "n/a" end) + " |")
  ' "$json" --args "$@"
}

# ---- section: runtime ----------------------------------------------------------------

bench_runtime() {
  need_tools hyperfine:hyperfine runc:runc crun:crun jq:jq busybox-static:busybox-static unshare:util-linux

  local dir=$WORK/runtime
  mkdir -p "$dir"
  log "building busybox bundle"
  sh "$REPO/samples/busybox-bundle/mkbundle.sh" "$dir/bundle" >&2
  jq '.process.args = ["/bin/true"] | .process.terminal = false' \
    "$dir/bundle/config.json" >"$dir/config.tmp"
  mv "$dir/config.tmp" "$dir/bundle/config.json"

  # crun 1.8 refuses a cgroup v1/v2 hybrid host ("cgroups in hybrid mode not supported"),
  # so it runs where the v2 tree is unmounted. Every runtime runs under the same
  # `unshare --mount ... sh -c` wrapper so each pays the same unshare + sh cost.
  local crun_pre=""
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    crun_pre="umount /sys/fs/cgroup/unified && "
  fi

  local names=() cmds=() notes=() rt bin id root bundle pre inner
  local minidock=$REPO/bin/minidock-runtime
  for rt in minidock runc crun; do
    case $rt in
      minidock)
        if [[ ! -x $minidock ]]; then
          notes+=("MiniDock skipped: $minidock is not built (run \`make build\` first).")
          log "${notes[-1]}"
          continue
        fi
        bin=$minidock ;;
      *) bin=$(command -v "$rt") ;;
    esac
    pre=""; [[ $rt == crun ]] && pre=$crun_pre
    id=mdbench-$rt root=$dir/root-$rt bundle=$dir/bundle-$rt
    plain_path "$bin"; plain_path "$root"; plain_path "$bundle"
    mkdir -p "$root"
    # Same bundle for everyone; a copy per runtime only so that each gets its own
    # absolute cgroupsPath (/minidock-bench/<runtime>), outside the caller's cgroup.
    cp -a "$dir/bundle" "$bundle"
    jq --arg cg "/$CG_NAME/$rt" '.linux.cgroupsPath = $cg' "$dir/bundle/config.json" >"$bundle/config.json"
    inner="$bin --root $root run --bundle $bundle $id && $bin --root $root delete -f $id"
    names+=("$rt")
    cmds+=("unshare --mount --propagation private sh -c '$pre$inner'")
    on_exit "unshare --mount --propagation private sh -c '$pre$bin --root $root delete -f $id'"
  done

  local json=$dir/hyperfine.json
  local hf=(hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$json")
  for rt in "${names[@]}"; do hf+=(-n "$rt"); done
  log "hyperfine: ${#cmds[@]} commands, --warmup $WARMUP --runs $RUNS"
  "${hf[@]}" "${cmds[@]}" >&2 || die "hyperfine failed (a runtime's run/delete exited non-zero?)"

  echo "## OCI runtime: \`run\` + \`delete -f\` of a busybox /bin/true bundle"
  echo
  md_table "$json" runtime runc "${names[@]}"
  echo
  for n in "${notes[@]}"; do echo "> $n"; done
  ((${#notes[@]} == 0)) || echo
  machine_line
  printf 'Versions: %s; %s\n' "$(runc --version | head -n1)" "$(crun --version | head -n1)"
  # shellcheck disable=SC2016  # backticks are markdown
  printf 'Method: hyperfine %s, --warmup %s --runs %s, -N; each command is `unshare --mount --propagation private sh -c "RUNTIME --root ROOT run --bundle B ID && RUNTIME --root ROOT delete -f ID"`%s; cgroupsPath /%s/<runtime>.\n' \
    "$(hyperfine --version | awk '{print $2}')" "$WARMUP" "$RUNS" \
    "${crun_pre:+ (crun first unmounts /sys/fs/cgroup/unified: crun 1.8 refuses cgroup hybrid mode)}" "$CG_NAME"
  echo
}

# ---- section: pull -------------------------------------------------------------------

# pick_files SRC MIN_KIB MAX_KIB BUDGET — regular files under SRC (paths relative to it)
# with MIN_KIB <= size < MAX_KIB KiB, in byte order of their paths, until BUDGET bytes.
pick_files() {
  find "$1" -type f -printf '%P\t%s\n' | LC_ALL=C sort |
    awk -F'\t' -v min=$(($2 * 1024)) -v max=$(($3 * 1024)) -v budget="$4" '
      full || $2 < min || $2 >= max { next }
      t + $2 > budget { full = 1; next }   # reads on to the end: no SIGPIPE for find/sort
      { t += $2; print $1 }'
}

# umount_under DIR — unmount whatever is mounted at or below DIR, deepest first.
umount_under() {
  local m
  awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  return 0
}

# bench_registry DIR — docker-registry on a free 127.0.0.1 port (set in REGISTRY_PORT), the same
# set-up as `make demo` and the test fixture (scripts/registry.sh), killed on exit.
# shellcheck source=scripts/registry.sh
. "$REPO/scripts/registry.sh"
bench_registry() {
  start_registry "$1" || die "could not start docker-registry"
  on_exit "kill $REGISTRY_PID; wait $REGISTRY_PID"
}

bench_pull() {
  need_tools hyperfine:hyperfine jq:jq curl:curl ss:iproute2 docker-registry:docker-registry \
    skopeo:skopeo umoci:umoci podman:podman
  [[ $PULL_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PULL_RUNS must be a positive integer, got '$PULL_RUNS'"

  local dir=$WORK/pull
  mkdir -p "$dir/registry" "$dir/layers"
  plain_path "$dir"
  on_exit "umount_under $dir"

  log "starting docker-registry"
  bench_registry "$dir/registry"
  local port=$REGISTRY_PORT
  local ref=127.0.0.1:$port/bench/multi:latest

  # The image: 5 layers, small text files (docs, translations, time zones, perl modules)
  # and a few large shared libraries. Which files depends on the host; the report says
  # how many and how big.
  log "building the image with umoci, pushing it to $ref"
  local src=$dir/src
  umoci init --layout "$src" >&2
  umoci new --image "$src:latest" >&2
  # unpack + repack per layer: umoci 0.4.7's `insert` writes layer tars that stop short of the tar's
  # end (not 512-byte aligned; GNU tar refuses them), which a strict extractor rightly rejects.
  # --refresh-bundle makes each repack the base of the next: without it every repack diffs the
  # bundle against the empty image it was unpacked from, and the result is ONE layer holding all.
  umoci unpack --image "$src:latest" "$dir/bundle-src" >/dev/null
  local spec from min max budget i=0 files=0 bytes=0 list
  for spec in /usr/share/doc:0:32:8000000 /usr/share/locale:0:256:8000000 \
    /usr/share/zoneinfo:0:64:4000000 /usr/share/perl:0:512:6000000 \
    /usr/lib/x86_64-linux-gnu:512:65536:30000000; do
    IFS=: read -r from min max budget <<<"$spec"
    [[ -d $from ]] || { log "no $from here: skipping that layer"; continue; }
    i=$((i + 1)) list=$dir/layers/$i.list
    pick_files "$from" "$min" "$max" "$budget" >"$list"
    [[ -s $list ]] || continue
    mkdir -p "$dir/layers/$i"
    tar -C "$from" -cf - --no-recursion -T "$list" | tar -C "$dir/layers/$i" -xf -
    mkdir -p "$dir/bundle-src/rootfs$from"
    cp -a "$dir/layers/$i/." "$dir/bundle-src/rootfs$from/"
    umoci repack --refresh-bundle --image "$src:latest" "$dir/bundle-src" >&2
    files=$((files + $(wc -l <"$list")))
    bytes=$((bytes + $(find "$dir/layers/$i" -type f -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')))
  done
  skopeo copy -q --dest-tls-verify=false "oci:$src:latest" "docker://$ref" >&2
  local manifest layers gz
  manifest=$(jq -r '.manifests[-1].digest | sub(":"; "/")' "$src/index.json")
  layers=$(jq '.layers | length' "$src/blobs/$manifest")
  gz=$(jq '[.layers[].size] | add' "$src/blobs/$manifest")
  # The point of this image is a multi-layer pull (layers downloaded and unpacked in parallel).
  ((layers >= 2)) || die "the pull image has $layers layer(s): none of the source dirs exist here?"

  # podman: private config (the benchmark must not depend on, or touch, the host's).
  cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$dir/podman-tmp"
CONF
  cat >"$dir/registries.conf" <<CONF
unqualified-search-registries = []

[[registry]]
location = "127.0.0.1:$port"
insecure = true
CONF

  local names=() cmds=() notes=() stores=() driver podman_cmd
  if [[ -x $REPO/bin/minidock ]]; then
    # One untimed pull first, so a failure shows its message instead of hyperfine's exit code.
    if ! MINIDOCK_DEBUG=1 MINIDOCK_ROOT="$dir/md-check" "$REPO/bin/minidock" pull -q "$ref" >/dev/null 2>"$dir/md-check.err"; then
      log "MiniDock pull failed: $(cat "$dir/md-check.err")"
      [[ -n ${BENCH_KEEP_FAILED:-} ]] && cp -r "$dir/md-check" "$BENCH_KEEP_FAILED"
      return 1
    fi
    rm -rf "$dir/md-check"
    names+=("MiniDock (pull + unpack)")
    cmds+=("MINIDOCK_ROOT=$dir/md $REPO/bin/minidock pull -q $ref")
    stores+=("$dir/md")
  else
    notes+=("MiniDock skipped: $REPO/bin/minidock is not built (run \`make build\` first).")
    log "${notes[-1]}"
  fi
  # overlay where it works (natively or through fuse-overlayfs), otherwise vfs.
  for driver in overlay vfs ""; do
    [[ -n $driver ]] || break
    podman_cmd="CONTAINERS_CONF=$dir/containers.conf CONTAINERS_REGISTRIES_CONF=$dir/registries.conf"
    podman_cmd+=" podman --root $dir/podman-root --runroot $dir/podman-run --storage-driver $driver"
    if eval "$podman_cmd pull --tls-verify=false -q $ref" >"$dir/podman.log" 2>&1; then
      break
    fi
    log "podman with --storage-driver $driver failed: $(tail -n 1 "$dir/podman.log")"
    umount_under "$dir"
    rm -rf "$dir/podman-root" "$dir/podman-run" "$dir/podman-tmp"
  done
  if [[ -n $driver ]]; then
    names+=("podman (pull + unpack)")
    cmds+=("$podman_cmd pull --tls-verify=false -q $ref")
    stores+=("$dir/podman-root" "$dir/podman-run" "$dir/podman-tmp")
  else
    notes+=("podman skipped: \`podman pull\` fails here with both the overlay and the vfs storage drivers ($(tail -n 1 "$dir/podman.log")).")
    log "${notes[-1]}"
  fi
  names+=("skopeo + umoci (pull + unpack)" "skopeo (pull only)")
  cmds+=("skopeo copy -q --src-tls-verify=false docker://$ref oci:$dir/oci-u:latest && umoci unpack --image $dir/oci-u:latest $dir/bundle >/dev/null"
    "skopeo copy -q --src-tls-verify=false docker://$ref oci:$dir/oci:latest")
  stores+=("$dir/oci-u" "$dir/bundle" "$dir/oci")

  local json=$dir/hyperfine.json n
  # Every run of every command starts from empty stores (the prepare wipes them all).
  local hf=(hyperfine --warmup "$PULL_WARMUP" --runs "$PULL_RUNS" --export-json "$json"
    --prepare "rm -rf ${stores[*]}")
  for n in "${names[@]}"; do hf+=(-n "$n"); done
  log "hyperfine: ${#cmds[@]} commands, --warmup $PULL_WARMUP --runs $PULL_RUNS"
  "${hf[@]}" "${cmds[@]}" >&2 || die "hyperfine failed (a pull exited non-zero?)"

  echo "## Image pull: a ${layers}-layer image from a loopback docker-registry, into an empty store"
  echo
  md_table "$json" command "podman (pull + unpack)" "${names[@]}"
  echo
  echo "> MiniDock, podman and skopeo + umoci all download, verify and unpack every layer; \"skopeo (pull only)\" shows the download alone."
  for n in "${notes[@]}"; do echo "> $n"; done
  echo
  printf 'Image: %s layers, %s files, %s MiB uncompressed, %s MiB as gzip layers (built with umoci from /usr/share/{doc,locale,zoneinfo,perl} and /usr/lib/x86_64-linux-gnu).\n' \
    "$layers" "$files" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$(awk -v b="$gz" 'BEGIN { printf "%.1f", b / 1048576 }')"
  machine_line
  printf 'Versions: %s; %s; %s; %s\n' "$(podman --version)" "$(skopeo --version)" "$(umoci --version)" \
    "$(docker-registry --version | awk '{ print "docker-registry " $3 }')"
  # shellcheck disable=SC2016  # backticks are markdown
  printf 'Method: hyperfine %s, --warmup %s --runs %s, --prepare wiping every store (MINIDOCK_ROOT; podman --root/--runroot/tmp_dir; the OCI layouts and bundle); registry `docker-registry serve` on 127.0.0.1 over plain http; podman %s with a private containers.conf and registries.conf.\n' \
    "$(hyperfine --version | awk '{print $2}')" "$PULL_WARMUP" "$PULL_RUNS" \
    "${driver:+--storage-driver $driver}"
  echo
}

# ---- section: run --------------------------------------------------------------------

# minidock_has_run BIN — the binary has a `run` command (System.CommandLine answers an unknown
# `run --help` with the root help and exit 0, so look at what it prints).
minidock_has_run() {
  "$1" run --help 2>/dev/null | grep -Eq '^[[:space:]]+minidock run\b' && return 0
  "$1" --help 2>/dev/null | grep -Eq '^[[:space:]]+run\b'
}

# The run section's podman: everything private and explicit, nothing read from or left on the host.
#   --root/--runroot/--tmpdir  its own store, run state and tmp under $WORK
#   CONTAINERS_CONF=<empty file>  no host containers.conf (they replace each other, not merge)
#   --storage-driver overlay   native overlayfs (vfs as a fallback: a full copy per container)
#   --cgroup-manager cgroupfs  no systemd dbus; with --cgroup-parent /minidock-bench/podman its
#                              cgroups are removed with the bench's own
#   --events-backend none      no events journal/file written per container
#   --runtime runc             crun 1.8 (Debian's podman default) refuses this host's hybrid cgroups
#   --ulimit nofile=…,nproc=…  podman's default rlimits are above what this VM allows (root here
#                              lacks CAP_SYS_RESOURCE): runc fails "error setting rlimit type 7
#                              (then 6): operation not permitted". nofile = the hard limit and
#                              nproc = 32768 are the highest that work here (nproc 32769 fails).
podman_run_base() {
  local dir=$1 driver=$2
  printf 'podman --root %s --runroot %s --tmpdir %s --storage-driver %s --cgroup-manager cgroupfs --events-backend none --runtime runc' \
    "$dir/podman-root" "$dir/podman-run" "$dir/podman-tmp" "$driver"
}

bench_run() {
  need_tools hyperfine:hyperfine jq:jq ss:iproute2 docker-registry:docker-registry buildah:buildah \
    podman:podman runc:runc busybox-static:busybox-static unshare:util-linux
  [[ $RUN_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUN_RUNS must be a positive integer, got '$RUN_RUNS'"

  local dir=$WORK/run
  mkdir -p "$dir/registry" "$dir/podman-tmp"
  plain_path "$dir"
  on_exit "umount_under $dir"

  log "starting docker-registry"
  bench_registry "$dir/registry"
  local ref=127.0.0.1:$REGISTRY_PORT/minidock/sandbox:latest
  log "building Dockerfile.rootfs with buildah, pushing it to $ref"
  bash "$REPO/scripts/build-sandbox.sh" "$ref" >&2

  # Environment every timed command sees (hyperfine -N passes its own environment on).
  local nofile nproc
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=1048576
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  : >"$dir/containers.conf"
  local -x CONTAINERS_CONF=$dir/containers.conf MINIDOCK_ROOT=$dir/md
  local -x NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

  local names=() cmds=() notes=() md=$REPO/bin/minidock out
  local args=(--rm --network none)
  # Each check is the timed command once, untimed, running `sh -c 'echo ok'` instead of `true`:
  # a failure shows its message, and a `run` that exits 0 without running the container is caught.
  if [[ ! -x $md ]]; then
    notes+=("MiniDock skipped: $md is not built (run \`make build\` first).")
    log "error: ${notes[-1]}"
  elif ! minidock_has_run "$md"; then
    notes+=("MiniDock skipped: $md has no \`run\` command (\`$md run --help\` shows no run usage): build a MiniDock with the run milestone.")
    log "error: ${notes[-1]}"
  else
    log "pulling $ref with MiniDock (untimed)"
    MINIDOCK_DEBUG=1 "$md" pull -q "$ref" >/dev/null 2>"$dir/md.err" ||
      die "minidock pull $ref failed: $(cat "$dir/md.err")"
    if ! out=$(MINIDOCK_DEBUG=1 unshare -m --propagation private "$md" run "${args[@]}" "$ref" sh -c 'echo ok' 2>"$dir/md.err"); then
      die "\`minidock run ${args[*]} $ref sh -c 'echo ok'\` failed: $(cat "$dir/md.err")"
    fi
    [[ $out == ok ]] || die "\`minidock run ${args[*]} $ref sh -c 'echo ok'\` printed '$out', not 'ok' (stderr: $(cat "$dir/md.err"))"
    names+=("MiniDock: minidock run")
    cmds+=("$md run ${args[*]} $ref true")
    # What isolation costs (issue 5): the same run without the seccomp filter, and with cgroup limits.
    names+=("MiniDock: minidock run, seccomp=unconfined")
    cmds+=("$md run ${args[*]} --security-opt seccomp=unconfined $ref true")
    names+=("MiniDock: minidock run, -m 64m --cpus 0.5 --pids-limit 64")
    cmds+=("$md run ${args[*]} -m 64m --cpus 0.5 --pids-limit 64 $ref true")
    # What bridge networking adds (issue 6): the default network, CNI's bridge + host-local + firewall
    # ADD before and DEL after, the bridge made and deleted each time (it goes with its last container).
    if out=$(in_netns "$md" run --rm --network bridge "$ref" sh -c 'echo ok' 2>"$dir/md.err") && [[ $out == ok ]]; then
      names+=("MiniDock: minidock run --network bridge")
      cmds+=("$md run --rm --network bridge $ref true")
    else
      notes+=("MiniDock --network bridge skipped: $(tail -n 1 "$dir/md.err")")
      log "error: ${notes[-1]}"
    fi
  fi

  local driver podman_cmd=""
  for driver in overlay vfs; do
    podman_cmd="$(podman_run_base "$dir" "$driver") run ${args[*]} --cgroup-parent /$CG_NAME/podman --ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
    log "pulling $ref with podman --storage-driver $driver (untimed)"
    # shellcheck disable=SC2086  # command strings of plain_path-checked words, split on purpose
    if $(podman_run_base "$dir" "$driver") pull -q --tls-verify=false "$ref" >"$dir/podman.log" 2>&1 &&
      out=$(unshare -m --propagation private $podman_cmd "$ref" sh -c 'echo ok' 2>"$dir/podman.log") && [[ $out == ok ]]; then
      break
    fi
    log "podman with --storage-driver $driver failed: $(tail -n 2 "$dir/podman.log")"
    umount_under "$dir/podman-root"
    rm -rf "$dir/podman-root" "$dir/podman-run"
    podman_cmd=""
  done
  if [[ -n $podman_cmd ]]; then
    names+=("podman run")
    cmds+=("$podman_cmd $ref true")
    local podman_bridge=${podman_cmd/--network none/--network bridge}
    # shellcheck disable=SC2086  # split on purpose, as above
    if out=$(in_netns $podman_bridge "$ref" sh -c 'echo ok' 2>"$dir/podman.log") && [[ $out == ok ]]; then
      names+=("podman run --network bridge")
      cmds+=("$podman_bridge $ref true")
    else
      notes+=("podman --network bridge skipped: $(tail -n 1 "$dir/podman.log")")
      log "${notes[-1]}"
    fi
  else
    notes+=("podman skipped: \`podman run\` fails here with both the overlay and the vfs storage drivers ($(tail -n 1 "$dir/podman.log")).")
    log "${notes[-1]}"
  fi

  # runc, for reference: a prepared busybox bundle (no image store, no overlay: a plain rootfs dir),
  # new pid/net/ipc/uts/mount namespaces; `runc run` deletes the container when it exits.
  local bundle=$dir/bundle runc_cmd
  sh "$REPO/samples/busybox-bundle/mkbundle.sh" "$bundle" >&2
  jq --arg cg "/$CG_NAME/run-runc" '.process.args = ["/bin/true"] | .linux.cgroupsPath = $cg' \
    "$bundle/config.json" >"$dir/config.tmp"
  mv "$dir/config.tmp" "$bundle/config.json"
  mkdir -p "$dir/runc-root"
  runc_cmd="runc --root $dir/runc-root run --bundle $bundle mdbench-run"
  on_exit "runc --root $dir/runc-root delete -f mdbench-run"
  # shellcheck disable=SC2086  # split on purpose, as above
  if unshare -m --propagation private $runc_cmd >"$dir/runc.log" 2>&1; then
    names+=("runc run (bundle, reference)")
    cmds+=("$runc_cmd")
  else
    notes+=("runc skipped: \`runc run\` of the bundle failed ($(tail -n 1 "$dir/runc.log")).")
    log "${notes[-1]}"
  fi
  ((${#cmds[@]})) || die "nothing to time"

  # One hyperfine run for all, itself in a private mount namespace: whatever a command mounts
  # (overlays, /proc, ...) dies with it, even after a failure; no command pays for an extra unshare.
  local json=$dir/hyperfine.json n
  local hf=(hyperfine -N --warmup "$RUN_WARMUP" --runs "$RUN_RUNS" --export-json "$json"
    --export-markdown "$dir/hyperfine.md")
  for n in "${names[@]}"; do hf+=(-n "$n"); done
  log "hyperfine: ${#cmds[@]} commands, --warmup $RUN_WARMUP --runs $RUN_RUNS"
  # In a network namespace of its own (lo up), so that the bridges, NAT rules and ip_forward of the
  # bridge runs never touch the host's network; the none runs pay nothing for it.
  in_netns "${hf[@]}" "${cmds[@]}" >&2 ||
    die "hyperfine failed (a run exited non-zero?)"

  echo "## Container run: \`run --rm --network none SANDBOX true\`, image already pulled"
  echo
  md_table "$json" command "podman run" "${names[@]}"
  echo
  local md_ratio
  md_ratio=$(jq -r '([.results[] | select(.command | test("minidock run")) | .median][0]) as $m
                    | ([.results[] | select(.command | test("^podman ")) | .median][0]) as $p
                    | if $m and $p then $m / $p else empty end' "$json")
  [[ -n $md_ratio ]] && printf '> Target: MiniDock ≤ 0.20× podman; measured %.2f×.\n' "$md_ratio"
  for n in "${notes[@]}"; do echo "> $n"; done
  echo
  isolation_costs "$json" "$md" "$ref" "${args[@]}"
  network_costs "$json"
  echo "<details><summary>hyperfine's own --export-markdown (relative to the fastest)</summary>"
  echo
  cat "$dir/hyperfine.md"
  echo
  echo "</details>"
  echo
  echo "Image: Dockerfile.rootfs (busybox-static, 4 layers), built with buildah --isolation chroot, pushed to docker-registry on 127.0.0.1, pulled by each tool before timing; runc runs a samples/busybox-bundle bundle of the same busybox."
  machine_line
  printf 'Versions: %s; %s; %s\n' "$(podman --version)" "$(runc --version | head -n1)" "$(buildah --version | awk '{print $1, $3}')"
  # shellcheck disable=SC2016  # backticks are markdown
  printf 'Method: hyperfine %s, -N, --warmup %s --runs %s, the whole hyperfine in `unshare -m -n --propagation private` (lo up: the bridge runs make their bridges and NAT rules in that namespace); MINIDOCK_ROOT and podman --root/--runroot/--tmpdir private; podman `%s`.\n' \
    "$(hyperfine --version | awk '{print $2}')" "$RUN_WARMUP" "$RUN_RUNS" \
    "${podman_cmd:+${podman_cmd//$dir/\$W} IMAGE true}"
  echo
}

# in_netns CMD... — CMD in a private mount namespace and a new network namespace with lo up.
in_netns() {
  unshare -m -n --propagation private sh -c 'ip link set lo up && exec "$@"' in_netns "$@"
}

# network_costs JSON — what `--network bridge` adds to one run, for MiniDock and for podman (medians).
network_costs() {
  local json=$1 mdn mdb pn pb
  mdn=$(jq -r '[.results[] | select(.command == "MiniDock: minidock run") | .median][0] // empty' "$json")
  mdb=$(jq -r '[.results[] | select(.command == "MiniDock: minidock run --network bridge") | .median][0] // empty' "$json")
  pn=$(jq -r '[.results[] | select(.command == "podman run") | .median][0] // empty' "$json")
  pb=$(jq -r '[.results[] | select(.command == "podman run --network bridge") | .median][0] // empty' "$json")
  [[ -n $mdn && -n $mdb ]] || return 0
  echo "### What bridge networking adds to \`run\` (vs \`--network none\`, medians)"
  echo
  echo "| | none ms | bridge ms | bridge adds ms |"
  echo "|---|---:|---:|---:|"
  printf '| MiniDock | %.1f | %.1f | %.1f |\n' "$(jq -n "$mdn * 1000")" "$(jq -n "$mdb * 1000")" "$(jq -n "($mdb - $mdn) * 1000")"
  [[ -n $pn && -n $pb ]] && printf '| podman | %.1f | %.1f | %.1f |\n' "$(jq -n "$pn * 1000")" "$(jq -n "$pb * 1000")" "$(jq -n "($pb - $pn) * 1000")"
  [[ -n $pb ]] && printf '\n> MiniDock bridge run / podman bridge run: %.2f×.\n' "$(jq -n "$mdb / $pb")"
  echo
}

# isolation_costs JSON MINIDOCK REF RUNARGS... — what the seccomp filter and the cgroups add to one
# `minidock run`: differences of the hyperfine medians above, and the cgroup steps as MINIDOCK_TRACE
# times them inside the process (median of BENCH_RUN_RUNS traced runs: create the cgroup dirs and place
# the init; write the limits).
isolation_costs() {
  local json=$1 md=$2 ref=$3; shift 3
  [[ -x $md ]] || return 0
  local base unconf limited
  base=$(jq -r '[.results[] | select(.command | test("minidock run")) | .median][0] // empty' "$json")
  unconf=$(jq -r '[.results[] | select(.command | test("seccomp=unconfined")) | .median][0] // empty' "$json")
  limited=$(jq -r '[.results[] | select(.command | test("pids-limit")) | .median][0] // empty' "$json")
  [[ -n $base && -n $unconf && -n $limited ]] || return 0
  local place=() limits=() i t out
  for ((i = 0; i < RUN_RUNS; i++)); do
    out=$(MINIDOCK_TRACE=1 unshare -m --propagation private "$md" run "$@" -m 64m --cpus 0.5 --pids-limit 64 "$ref" true 2>&1 >/dev/null) || continue
    # "[  47.041 ms] init spawned ..." then "[  50.006 ms] cgroup ... created, init placed"; "cgroup limits written"
    t=$(awk -F'[][]' '/init spawned as pid/ { s = $2 + 0 } /created, init placed/ { printf "%.3f", $2 - s; exit }' <<<"$out")
    [[ -n $t ]] && place+=("$t")
    t=$(awk -F'[][]' '/parked on exec.fifo/ { s = $2 + 0 } /cgroup limits written/ { printf "%.3f", $2 - s; exit }' <<<"$out")
    [[ -n $t ]] && limits+=("$t")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
  echo "### What isolation costs on \`minidock run\`"
  echo
  echo "| cost | ms |"
  echo "|---|---:|"
  printf '| seccomp filter (default profile vs \`--security-opt seccomp=unconfined\`, medians) | %.1f |\n' "$(jq -n "($base - $unconf) * 1000")"
  printf '| cgroup limits (\`-m 64m --cpus 0.5 --pids-limit 64\` vs none, medians) | %.1f |\n' "$(jq -n "($limited - $base) * 1000")"
  ((${#place[@]})) && printf '| cgroup setup: create the dirs and place the init (MINIDOCK_TRACE, median of %d) | %.2f |\n' "${#place[@]}" "$(median "${place[@]}")"
  ((${#limits[@]})) && printf '| cgroup limits written (MINIDOCK_TRACE, median of %d) | %.2f |\n' "${#limits[@]}" "$(median "${limits[@]}")"
  echo
}

# ---- main ----------------------------------------------------------------------------

main() {
  local s sections=("$@")
  ((${#sections[@]})) || sections=("${SECTIONS[@]}")
  for s in "${sections[@]}"; do
    [[ " ${SECTIONS[*]} " == *" $s "* ]] || die "unknown section '$s' (known: ${SECTIONS[*]})"
  done
  [[ $(id -u) == 0 ]] || die "must run as root"
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/minidock-bench.XXXXXX")

  for s in "${sections[@]}"; do
    "bench_$s"
  done
}

main "$@"
