#!/usr/bin/env bash
# MiniDock benchmarks (`make bench`). Run as root.
#
# Usage: bash bench/bench.sh [SECTION...]     (default: all sections)
#   runtime   OCI runtime `run` + `delete -f` of a busybox /bin/true bundle:
#             MiniDock (bin/minidock-runtime) vs runc vs crun, timed by hyperfine.
#
# Environment:
#   BENCH_RUNS   hyperfine --runs per command (default 30); warmup is always 3.
#
# The markdown report goes to stdout; hyperfine's progress and notes go to stderr,
# so `bash bench/bench.sh > results.md` captures only the report.
#
# Adding a section: write `bench_NAME`, add NAME to SECTIONS below. Use `need_tools`
# for what it needs, `$WORK` for scratch space (removed on exit) and `on_exit` to
# register extra cleanup commands.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECTIONS=(runtime)
WARMUP=3
RUNS=${BENCH_RUNS:-30}
# cgroupsPath is /minidock-bench/<runtime> for every runtime (absolute: outside our own cgroup)
CG_NAME="minidock-bench"
WORK=""
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

# md_table JSON NAME... — markdown table from hyperfine 1.15 --export-json (seconds).
# NAMEs label the results in order; ratio is median / median of the result named runc.
md_table() {
  local json=$1; shift
  jq -r '
    def f2: (. * 100 | round) as $n
            | "\($n / 100 | floor).\($n % 100 | tostring | if length < 2 then "0" + . else . end)";
    ($ARGS.positional) as $names
    | [.results | to_entries[] | .value + {name: $names[.key]}] as $rs
    | ([$rs[] | select(.name == "runc") | .median][0]) as $runc
    | "| runtime | median (ms) | mean ± σ (ms) | ratio vs runc |",
      "|---|---:|---:|---:|",
      ($rs[] | "| \(.name) | \(.median * 1000 | f2) | \(.mean * 1000 | f2) ± \(.stddev * 1000 | f2) | "
               + (if $runc then (.median / $runc | f2) else "n/a" end) + " |")
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
  md_table "$json" "${names[@]}"
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
