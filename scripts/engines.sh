#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests (as an unprivileged
# user: PostgreSQL refuses root) and a throw-away Redis, runs a command with
# them, and stops both by their process ids whatever happens; their files go
# with them.
#   scripts/engines.sh run -- CMD ARGS…   runs CMD with KEFU_TEST_POSTGRES set
#                                          (a URL on the server's `postgres`
#                                          database; tests create their own)
#                                          and KEFU_TEST_REDIS (redis://…/)
# For benchmarks (make bench):
#   KEFU_ENGINES_DURABLE=1   commits as in production: fsync, synchronous_commit
#                            and full_page_writes on (the tests turn them off)
#   KEFU_ENGINES_CORE=N      runs the servers (all their processes) on core N
#                            with taskset, when taskset exists and there are 2+ cores
# Needs Debian's postgresql and redis-server (scripts/setup.sh engines installs them).
# Redis keeps nothing on disk (no snapshots, no append-only file).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${1:-}" = run ] && [ "${2:-}" = -- ] || { echo "usage: $0 run -- CMD ARGS..." >&2; exit 2; }
shift 2

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "engines: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "engines: no Redis server (apt-get install redis-server)" >&2; exit 1; }

# A free port: ask the kernel for one, then let it go.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

dir=$(mktemp -d /tmp/kefu-engines.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
redis_pid=
stop() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT INT TERM

port=$(free_port)
as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U kefu --no-sync >/dev/null
# fsync off: tests only (nothing here tests PostgreSQL's own durability).
# max_connections: every test server keeps a pool of 11.
if [ "${KEFU_ENGINES_DURABLE:-}" = 1 ]; then
  durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  mode="durable: fsync, synchronous_commit on"
else
  durability="-c fsync=off -c full_page_writes=off"
  mode="fsync off: tests only"
fi
pin=()
if [ -n "${KEFU_ENGINES_CORE:-}" ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin=(taskset -c "$KEFU_ENGINES_CORE")   # pg_ctl's children inherit it
  mode="$mode; core $KEFU_ENGINES_CORE"
fi
as_pg "${pin[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=400" \
  start >/dev/null
echo "engines: PostgreSQL on 127.0.0.1:$port ($mode)"
export KEFU_TEST_POSTGRES="postgres://kefu@127.0.0.1:$port/postgres"

# Redis in the background of this shell (not daemonized: its pid is $!), on a
# free port of 127.0.0.1, nothing persisted; answering PING before CMD runs.
redis_port=$(free_port)
mkdir -p "$dir/redis"
"${pin[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --dir "$dir/redis" --logfile "$dir/redis.log" &
redis_pid=$!
redis_ping() {
  { exec 3<>"/dev/tcp/127.0.0.1/$redis_port"; } 2>/dev/null || return 1
  local answer=
  printf 'PING\r\n' >&3 && read -r -t 2 answer <&3 || true
  exec 3<&-
  [ "${answer%$'\r'}" = +PONG ]
}
for _ in $(seq 100); do redis_ping && break; sleep 0.1; done
redis_ping || { echo "engines: Redis did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; }
echo "engines: Redis on 127.0.0.1:$redis_port (nothing persisted)"
export KEFU_TEST_REDIS="redis://127.0.0.1:$redis_port/"
"$@"
