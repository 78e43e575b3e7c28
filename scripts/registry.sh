# shellcheck shell=bash
# A throw-away OCI registry for scripts (sourced, not run): Debian's docker-registry (distribution
# v2.8) on a free 127.0.0.1 port, no auth, no TLS, storage in a directory the caller owns and
# removes. The same set-up as tests/MiniDock.Integration.Tests/Fixtures/RegistryFixture.cs.
#
#   . scripts/registry.sh
#   start_registry DIR      # sets REGISTRY_PORT and REGISTRY_PID; config, log, data in DIR
#   stop_registry           # kills it (call it from your EXIT trap)

# shellcheck disable=SC2034  # set for the caller
REGISTRY_PORT=""
REGISTRY_PID=""

# registry_answers PORT: GET /v2/ answers 200 (bash's /dev/tcp: no curl needed).
registry_answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" >&3
    IFS= read -r -t 2 status <&3 || exit 1
    [[ $status == HTTP/1.?" 200"* ]]
  ) 2>/dev/null
}

start_registry() {
  local dir=$1 port pid try i
  command -v docker-registry >/dev/null || { echo "docker-registry missing (apt-get install docker-registry)" >&2; return 1; }
  mkdir -p "$dir"
  for ((try = 0; try < 10; try++)); do
    port=$((20000 + RANDOM % 40000))
    [[ -z $(ss -Htln "sport = :$port" 2>/dev/null) ]] || continue
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
YAML
    NO_PROXY=127.0.0.1,localhost docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      if registry_answers "$port"; then
        # shellcheck disable=SC2034  # set for the caller
        REGISTRY_PORT=$port REGISTRY_PID=$pid
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  echo "could not start docker-registry: $(tail -n 3 "$dir/registry.log" 2>/dev/null)" >&2
  return 1
}

stop_registry() {
  [[ -n $REGISTRY_PID ]] || return 0
  kill "$REGISTRY_PID" 2>/dev/null
  wait "$REGISTRY_PID" 2>/dev/null || true
  REGISTRY_PID=""
}
