#!/usr/bin/env bash
# Many kefu nodes on one machine, to see how they act as one: a PostgreSQL
# server (the record), a Redis server (live events between nodes), three
# `kefu serve` nodes on 127.0.0.1:3001-3003 (other free ports when those are
# taken), and HAProxy in front on http://127.0.0.1:3000 with WebSockets and
# health checks on /readyz — the configuration of docs/DEPLOY.md, "Many nodes".
#
#   scripts/cluster.sh         (make cluster installs the engines first)
#
# It creates the first admin (printed with its password) and serves until
# Ctrl-C; then, or on any exit, it stops everything it started by process
# id. PostgreSQL's and Redis' data live in a temporary folder removed at exit:
# every run starts empty. The nodes' and HAProxy's logs stay in target/cluster/.
#
#   KEFU_CLUSTER_PORT=3000      where HAProxy listens
#   KEFU_CLUSTER_NODES=3        how many nodes
#   KEFU_ADMIN_NAME=admin       the first admin's name
#   KEFU_ADMIN_PASSWORD=…       and password (random when unset)
#
# Needs Debian's postgresql, redis-server and haproxy (scripts/setup.sh
# engines), and the release build (made with `make build` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

front_port=${KEFU_CLUSTER_PORT:-3000}
nodes=${KEFU_CLUSTER_NODES:-3}
admin=${KEFU_ADMIN_NAME:-admin}
logs=target/cluster

say() { echo "cluster: $*"; }
fail() { echo "cluster: $*" >&2; exit 1; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || fail "no PostgreSQL server: run scripts/setup.sh engines"
command -v redis-server >/dev/null || fail "no redis-server: run scripts/setup.sh engines"
command -v haproxy >/dev/null || fail "no haproxy: run scripts/setup.sh engines"
command -v python3 >/dev/null || fail "no python3: run scripts/setup.sh engines"

# The release binary and the site it serves (what `make run` uses).
kefu=target/release/kefu
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site}
export LEPTOS_OUTPUT_NAME=${LEPTOS_OUTPUT_NAME:-kefu}   # Cargo.toml's output-name
if [ ! -x "$kefu" ] || [ ! -d "$LEPTOS_SITE_ROOT/pkg" ]; then
  say "no release build yet: make build"
  make build
fi
"$kefu" serve --help | grep -q -- '--redis' ||
  fail "$kefu has no --redis flag: it is older than this script; run make build"

# A free port: ask the kernel for one, then let it go.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Whether nothing listens on port $1 (SO_REUSEADDR, as kefu and HAProxy
# bind: connections of an earlier run waiting in TIME_WAIT do not count).
port_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
# The status line of GET $2 on 127.0.0.1:$1 ("" when nothing answers).
http_status() {
  local line=
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3 &&
    read -r -t 2 line <&3 || true
  exec 3<&-
  echo "${line%$'\r'}"
}
redis_pong() {
  local line=
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3 && read -r -t 2 line <&3 || true
  exec 3<&-
  [ "${line%$'\r'}" = +PONG ]
}
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(int(__import__("sys").argv[1])))' "$1"; }

port_free "$front_port" ||
  fail "127.0.0.1:$front_port is taken (is \`make run\` serving?); KEFU_CLUSTER_PORT=N picks another"

dir=$(mktemp -d /tmp/kefu-cluster.XXXXXX)
mkdir -p "$logs"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"

node_pids=()
redis_pid=
haproxy_pid=
# Stops what was started, in the reverse order, each by its process id:
# HAProxy, the nodes (SIGTERM: they hand their sockets over, at most 10 s,
# then SIGKILL), Redis, PostgreSQL; then removes the data.
stop() {
  trap - EXIT INT TERM
  echo
  say "stopping"
  if [ -n "$haproxy_pid" ]; then kill "$haproxy_pid" 2>/dev/null || true; fi
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  say "stopped; the data is gone, the logs are in $logs/"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PostgreSQL, durable (fsync and synchronous commits as by default), with a
# password, on a free port of 127.0.0.1.
pg_port=$(free_port)
pg_password=$(random 18)
printf '%s\n' "$pg_password" >"$dir/pwfile"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pwfile"
as_pg "$pgbin/initdb" -D "$dir/data" -U kefu --pwfile "$dir/pwfile" -A scram-sha-256 >/dev/null
rm -f "$dir/pwfile"
as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
  -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
PGPASSWORD=$pg_password psql -q -h 127.0.0.1 -p "$pg_port" -U kefu -d postgres \
  -c 'CREATE DATABASE kefu' >/dev/null
# The URL goes to kefu in KEFU_DB, so that the password is not in `ps`.
export KEFU_DB="postgres://kefu:$pg_password@127.0.0.1:$pg_port/kefu"
say "PostgreSQL on 127.0.0.1:$pg_port (database kefu)"

# Redis: only live events go through it (the record is PostgreSQL), so it
# keeps nothing on disk.
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --dir "$dir" --logfile "$PWD/$logs/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis_pong "$redis_port" && break; sleep 0.1; done
redis_pong "$redis_port" || fail "Redis did not start: $logs/redis.log"
redis="redis://127.0.0.1:$redis_port/"
say "Redis on 127.0.0.1:$redis_port"

# The first admin, before any node starts (this also creates the tables).
# A node prints a one-time setup code only while no account exists, and
# each node would print its own: behind a balancer the setup form reaches
# any of them, so the account is made here instead.
admin_password=${KEFU_ADMIN_PASSWORD:-$(random 12)}
KEFU_AGENT_PASSWORD=$admin_password "$kefu" agent add --name "$admin" --admin >/dev/null

# The nodes.
addrs=()
for i in $(seq "$nodes"); do
  port=$((3000 + i))
  port_free "$port" && [ "$port" != "$front_port" ] || port=$(free_port)
  addr=127.0.0.1:$port
  NO_COLOR=1 "$kefu" serve --addr "$addr" --redis "$redis" >"$logs/node$i.log" 2>&1 &
  node_pids+=($!)
  addrs+=("$addr")
done
for i in $(seq "$nodes"); do
  port=${addrs[$((i - 1))]##*:}
  for _ in $(seq 300); do
    [[ $(http_status "$port" /readyz) == *" 200"* ]] && break
    kill -0 "${node_pids[$((i - 1))]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $(http_status "$port" /readyz) != *" 200"* ]]; then
    tail -n 20 "$logs/node$i.log" >&2
    fail "node $i did not become ready (log: $logs/node$i.log)"
  fi
done

# HAProxy in front: the configuration of docs/DEPLOY.md.
{
  cat <<EOF
global
    maxconn 4096
defaults
    mode http
    maxconn 4096
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option redispatch 1
frontend kefu
    bind 127.0.0.1:$front_port
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
EOF
  for i in $(seq "$nodes"); do
    echo "    server node$i ${addrs[$((i - 1))]} check inter 500ms fall 2 rise 1"
  done
} >"$dir/haproxy.cfg"
cp "$dir/haproxy.cfg" "$logs/haproxy.cfg"
haproxy -c -q -f "$dir/haproxy.cfg" || fail "HAProxy refused its configuration ($logs/haproxy.cfg)"
haproxy -f "$dir/haproxy.cfg" -db >"$logs/haproxy.log" 2>&1 &
haproxy_pid=$!
for _ in $(seq 100); do [ -n "$(http_status "$front_port" /readyz)" ] && break; sleep 0.1; done
[[ $(http_status "$front_port" /readyz) == *" 200"* ]] ||
  fail "HAProxy does not answer on 127.0.0.1:$front_port ($logs/haproxy.log)"

cat <<EOF

  kefu runs on $nodes nodes behind HAProxy:  http://127.0.0.1:$front_port
    /           the demo page with the chat widget
    /console    the agent console: sign in as "$admin", password $admin_password

EOF
for i in $(seq "$nodes"); do
  printf '  node %s  http://%s  pid %s  log %s\n' "$i" "${addrs[$((i - 1))]}" \
    "${node_pids[$((i - 1))]}" "$logs/node$i.log"
done
cat <<EOF
  Redis       127.0.0.1:$redis_port (pid $redis_pid)   log $logs/redis.log
  PostgreSQL  127.0.0.1:$pg_port                 log $dir/postgres.log
  HAProxy     127.0.0.1:$front_port (pid $haproxy_pid)    log $logs/haproxy.log, config $logs/haproxy.cfg

  Try: open the widget and the console in two browsers, then \`kill <a node's pid>\`:
  HAProxy takes that node out within a second and its clients reconnect to another.
  PostgreSQL's and Redis' data live in $dir, removed at exit.
  Ctrl-C stops everything.
EOF

# Serve until Ctrl-C (a node that dies is left dead: the others go on).
while :; do sleep 1; done
