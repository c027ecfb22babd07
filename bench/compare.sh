#!/usr/bin/env bash
# posfeed against two peers on loopback (SPEC 11, issues 7 and 15), nginx + Nchan and
# Pushpin: the same posfeed-bench workloads against all three, one table with every figure
# and posfeed's ratio against each peer, plus SVG charts beside it.
#
#   bench/compare.sh            # N = 1,000, 10,000 and the largest N up to 50,000 that fits
#   bench/compare.sh --quick    # N = 1,000 only, short runs, once each (a smoke check)
#   bench/compare.sh --only pg  # only the named groups of rows (idle, fanout, saturate,
#                               # retailers, replay, write, pg), e.g. to measure one change
#   bench/compare.sh --repeat 5 # every row 5 times (default 3; --quick: 1): median, min–max
#
# Opt-in, not part of the test command. Installs the missing Debian packages (the build's,
# nginx + libnginx-mod-nchan, pushpin, postgresql-15, gnuplot-nox), builds the release preset without the tests
# (scripts/build -DPOSFEED_TESTS=OFF: build/release/src/posfeed and
# build/release/bench/posfeed-bench), then for every row starts a fresh server (a new data
# directory for posfeed, a new nginx for Nchan), runs one workload and stops it. Then the
# PostgreSQL rows (posfeed only): one scratch PostgreSQL (scripts/pg-scratch), a new database
# and fresh `posfeed serve` nodes per row. Every server (PostgreSQL included) runs pinned to
# CPU 1 and posfeed-bench to CPU 0 (taskset). Writes the table to
# bench/results/<date>-<commit>.md, the raw result lines next to it (.jsonl) and the charts
# (<date>-<commit>-latency.svg, -throughput.svg).
# Environment: BENCH_SKIP_BUILD=1 uses the binaries as they are; BENCH_BUILD_DIR=DIR takes
# them from DIR (src/posfeed, bench/posfeed-bench; default build/release, which
# scripts/build makes; another DIR is configured like the release preset and built there);
# BENCH_RESULTS=DIR writes elsewhere. bench/README.md explains the workloads and how to read
# the table.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

quick=0
only="" # empty: every row
repeat="" # empty: 3, or 1 with --quick
usage="usage: bench/compare.sh [--quick] [--repeat N] [--only idle,fanout,saturate,retailers,replay,write,pg]"
while (($#)); do
  case "$1" in
  --quick) quick=1 ;;
  --only) only="${2:?$usage}"; shift ;;
  --repeat) repeat="${2:?$usage}"; shift
    [[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "$usage" >&2; exit 2; } ;;
  *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
# wants ROW: whether --only left ROW in (the table then has only those rows).
wants() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }

# ---- packages and build
scripts/install-deps
peer_pkgs=()
# gnuplot-nox draws the charts (python3-matplotlib cannot be installed beside the build's
# libboost1.81-dev on Debian 12: its scipy pulls libboost-dev 1.74, which conflicts).
for p in nginx libnginx-mod-nchan pushpin python3 postgresql-15 gnuplot-nox; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || peer_pkgs+=("$p")
done
if ((${#peer_pkgs[@]})); then
  echo "compare: installing ${peer_pkgs[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  # policy-rc.d or not, the packaged nginx and pushpin services are not used: this script
  # starts its own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${peer_pkgs[@]}" >/dev/null
fi
build_dir="$(realpath -m "${BENCH_BUILD_DIR:-$root/build/release}")"
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  if [[ "$build_dir" == "$root/build/release" ]]; then
    echo "compare: building (scripts/build -DPOSFEED_TESTS=OFF)" >&2
    scripts/build -DPOSFEED_TESTS=OFF >/dev/null
  else
    # The release preset's settings (CMakePresets.json), in a directory of its own.
    echo "compare: building in $build_dir (release preset settings, -DPOSFEED_TESTS=OFF)" >&2
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DPOSFEED_WERROR=ON -DPOSFEED_TESTS=OFF >/dev/null
    cmake --build "$build_dir" >/dev/null
  fi
fi
posfeed="$build_dir/src/posfeed"
bench="$build_dir/bench/posfeed-bench"
nchan_module="$(dpkg -L libnginx-mod-nchan | grep -m1 'ngx_nchan_module\.so$')"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
for f in "$posfeed" "$bench" "$nchan_module" "$pg_bin/psql" "$pg_bin/postgres" \
  "$(command -v pushpin || echo pushpin)" "$(command -v gnuplot || echo gnuplot)"; do
  [[ -e "$f" ]] || { echo "compare: missing $f" >&2; exit 1; }
done

# ---- what fits on this machine
hard_nofile="$(ulimit -Hn)"
[[ "$hard_nofile" == unlimited ]] && hard_nofile=1048576
ulimit -n "$hard_nofile"
# One process holds every stream (posfeed is one process; so is the tool): keep 1,000
# descriptors of slack for listeners, the database, publishers and nginx's own files.
max_n=$(( (hard_nofile - 1000) / 1000 * 1000 ))
((max_n > 50000)) && max_n=50000
notes=()
# Pinning (issue 15): the servers on one core, the tool on the other, the same for every
# server, so a row's figures do not depend on how the scheduler shares the cores. Every server
# process goes on server_cpu (posfeed and its nodes, nginx's master and workers, Pushpin's
# runner, condure, zurl, pushpin-proxy, pushpin-handler and its origin nginx, the scratch
# PostgreSQL); posfeed-bench on tool_cpu. With one core nothing is pinned.
server_cpu=1; tool_cpu=0
if (($(nproc) >= 2)); then
  pin_server=(taskset -c "$server_cpu")
  pin_tool=(taskset -c "$tool_cpu")
  notes+=("pinning: every server process on CPU $server_cpu (\`taskset -c $server_cpu\`: posfeed and its nodes, nginx + Nchan master and workers, Pushpin's processes and its origin, the scratch PostgreSQL beside the posfeed nodes), posfeed-bench on CPU $tool_cpu; posfeed keeps its default worker threads and nginx its 2 workers, all sharing CPU $server_cpu.")
else
  pin_server=(); pin_tool=()
  notes+=("pinning: none (one core).")
fi
if ((quick)); then
  sizes=(1000)
  fan_seconds=5; drain=5; replay_events=20000; write_seconds=3
  sat_n=1000; sat_rate=300; sat_seconds=3
  ret_seconds=5
  pg_fan_n=300; pg_fan_seconds=5
  notes+=("--quick: N = 1,000 only, 5 s fan-out (3 s saturating), 20,000 replayed events, 3 s of writes; the PostgreSQL cross-node fan-out to 300 streams for 5 s.")
else
  sizes=(1000 10000)
  ((max_n > 10000)) && sizes+=("$max_n")
  fan_seconds=20; drain=10; replay_events=100000; write_seconds=10
  sat_n=10000; sat_rate=30; sat_seconds=10
  ret_seconds=20
  pg_fan_n=1000; pg_fan_seconds=20
  if ((max_n < 50000)); then
    notes+=("N = 50,000 skipped: the hard open-file limit here is $hard_nofile (\`ulimit -Hn\`), it cannot be raised without CAP_SYS_RESOURCE, and one process (the posfeed server, or one posfeed-bench) holds one descriptor per stream; the largest N that fits with 1,000 spare is $max_n.")
  fi
fi
[[ -z "$only" ]] || notes+=("--only $only: the other rows were not run.")
[[ -n "$repeat" ]] || { ((quick)) && repeat=1 || repeat=3; }
notes+=("repeats: every row run $repeat time(s), each on a fresh server, the servers taking turns (posfeed, Nchan, Pushpin, posfeed, …); a figure is the median with min–max beside it, a ratio is of medians, and a lost/duplicated/error count is the sum over the repeats.")
# Pushpin's streams connect at most this many at once: with more, pushpin-proxy answers some
# with 502 "Error while proxying to origin." (its request to zurl fails before zurl sees it;
# 500 at once fails about half of 1,000). It accepts ~550 streams/s either way.
pushpin_concurrency=50
notes+=("Pushpin: streams connect $pushpin_concurrency at a time (\`--concurrency $pushpin_concurrency\`; posfeed and Nchan: 500): with 100 or more at once Pushpin 1.36 answers some with 502 \"Error while proxying to origin.\"; its accept rate (~550 streams/s here) is the same either way. No history, so no replay row (n/a). Publishes go through its HTTP control API (\`POST /publish/\`, acknowledged when the handler took them, in memory); \`message_rate\`/\`message_hwm\` lifted from Debian's 2,500/s and 25,000 (a limit against abuse, as posfeed's write limits).")
writers=64
# The PostgreSQL rows (issue "Several nodes on PostgreSQL"): nodes per database, and the
# cross-node fan-out at 1,000 writes/s with streams and publishes round-robin over the nodes.
# 48 publish connections (16 a node) keep 1,000/s paced while a durable commit takes up to
# ~48 ms.
pg_nodes=3
pg_fan_rate=1000
pg_fan_publishers=48
# Many retailers (issue 15): streams spread over RmSystems (posfeed: one RmSystem and API key
# each) or channels (the peers), 10 streams to each, every publish to a random one of them
# (posfeed-bench --groups): 10,000 streams over 1,000, and 1,000 over 100 beside it, the same
# publishes with a tenth of the streams on the server; if a publish cost grew with the node's
# streams rather than its RmSystem's, its CPU per publish would differ ~10× between the two.
ret_sizes=("10000:1000" "1000:100")
ret_rate=2000
ret_publishers=32
notes+=("many retailers: 10,000 streams over 1,000 groups and 1,000 over 100 (10 streams a group), $ret_rate publishes/s for $ret_seconds s over $ret_publishers connections, each to a pseudo-random group (\`posfeed-bench fanout --groups\`); posfeed: one RmSystem and one API key per group (created once per compare run, the database file copied for each run), the streams and publishes of group g with its key; Nchan and Pushpin: one channel per group. \"server CPU per publish\" is the servers' user + system CPU from the first publish to the last delivery, over the acknowledged publishes.")
# Replay publishes at most this many events per second into its channel, for both servers:
# faster than ~32,000/s into one channel, Nchan 1.3.6 logs "Missed message for eventsource
# subscriber: previous message id tags don't match" and the resuming stream stalls (message ids
# are a second and a per-second tag). posfeed publishes slower than this anyway.
replay_rate=20000
notes+=("replay: both servers get the events at most $replay_rate/s (faster than ~32,000/s into one channel Nchan 1.3.6 loses messages for the resuming stream, logging \"previous message id tags don't match\", and the stream stalls).")
# Seen in every Pushpin fan-out row here (1,000 streams, 100/s and 300/s): pushpin-handler
# logs "zhttp server: error id=… received message out of sequence, canceling" and closes those
# streams; their events count as lost ("streams the server closed" row).
notes+=("Pushpin drops streams under fan-out load: pushpin-handler logs \"zhttp server: error id=… received message out of sequence, canceling\" and closes them (21 and 49 of 1,000 in --quick trials at 100/s and 300/s, pinned to one core); the events those streams miss are its \"events lost\", and \"streams the server closed\" counts them.")
# Fan-out rate per N: about 100,000 deliveries per second, the same for both servers.
rate_for() { case "$1" in 1000) echo 100 ;; 10000) echo 10 ;; *) echo $(( (100000 + $1 - 1) / $1 )) ;; esac; }
for n in "${notes[@]}"; do echo "compare: $n" >&2; done

# ---- output files
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
stamp="$(date -u +%Y-%m-%d-%H%M)"
results="${BENCH_RESULTS:-$here/results}"
mkdir -p "$results"
out_md="$results/$stamp-$commit.md"
out_jsonl="$results/$stamp-$commit.jsonl"
out_svg_latency="$results/$stamp-$commit-latency.svg"
out_svg_throughput="$results/$stamp-$commit-throughput.svg"
work="$(mktemp -d "${TMPDIR:-/tmp}/posfeed-compare-XXXXXX")"
commands="$work/commands.txt"
server_logs="$work/server-logs.txt"
: >"$out_jsonl"
: >"$commands"
: >"$server_logs"

# ---- servers
# The processes of the current row (one posfeed, several posfeed nodes, or nginx's master)
# and their logs.
server_pids=()
server_log_files=()
server_kind=""
stop_server() {
  ((${#server_pids[@]})) || return 0
  local pid alive
  for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in "${server_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${server_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  server_pids=()
  server_log_files=()
}
# The scratch PostgreSQL of the PostgreSQL rows (started before the first of them).
pg_dir=""
pg_url=""
cleanup() {
  stop_server
  if [[ -n "$pg_dir" ]]; then
    scripts/pg-scratch stop "$pg_dir" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# prepare_posfeed DIR DB: RmSystem 1 and an API key with every scope in database DB, and
# DIR/posfeed.toml (posfeed_config).
pf_key=""; pf_ports=(); pf_label=""
prepare_posfeed() {
  "$posfeed" rmsystem create 1 --db "$2" >/dev/null
  pf_key="$("$posfeed" apikey create --db "$2" --rmsystem 1 --scopes '*' | tail -n 1 | tr -d '[:space:]')"
  posfeed_config "$1"
}

# posfeed_config DIR: DIR/posfeed.toml, the limits that would refuse a benchmark lifted
# (streams, connections, write rate); everything else at its default.
posfeed_config() {
  cat >"$1/posfeed.toml" <<EOF
log_level = "warn"
[limits]
max_connections = $((hard_nofile - 100))
streams_per_credential = 100000
writes_per_second = 1000000000
write_burst = 1000000000
EOF
  pf_ports=()
  server_kind=posfeed
}

# launch_posfeed DIR CONFIG DB: one `posfeed serve` on 127.0.0.1:0, its output in DIR; adds
# its pid, port and log to the row's.
launch_posfeed() {
  local dir="$1" config="$2" db="$3"
  mkdir -p "$dir"
  # exec: $! is the server itself. The server raises its soft limit too; this makes sure.
  (ulimit -n "$hard_nofile"; exec "${pin_server[@]}" "$posfeed" serve --config "$config" \
    --listen 127.0.0.1:0 --db "$db" >"$dir/server.out" 2>"$dir/server.err") &
  local pid=$!
  server_pids+=("$pid")
  server_log_files+=("$dir/server.err")
  local port=""
  for _ in $(seq 300); do
    port="$(sed -n 's|^posfeed listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$dir/server.out")"
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "compare: posfeed did not start:" >&2
    cat "$dir/server.err" >&2
    exit 1
  fi
  pf_ports+=("$port")
}

# start_posfeed: SQLite in a fresh data directory, one server.
start_posfeed() {
  local dir="$work/posfeed-$RANDOM$RANDOM"
  mkdir -p "$dir"
  local db="sqlite:$dir/posfeed.db"
  prepare_posfeed "$dir" "$db"
  pf_label=posfeed
  launch_posfeed "$dir" "$dir/posfeed.toml" "$db"
}

# The many-retailers database: RmSystems r0 … r999 and one API key each (every scope), made
# once per compare run (2,000 CLI calls) and copied for each run; line g of retail_keys is
# the X-Api-Key header of RmSystem r<g>.
retail_template=""; retail_keys=""
prepare_retailers() {
  [[ -z "$retail_template" ]] || return 0
  local groups=0 size g
  for size in "${ret_sizes[@]}"; do ((${size#*:} > groups)) && groups=${size#*:}; done
  retail_template="$work/retail-template"
  retail_keys="$work/retail-keys.txt"
  mkdir -p "$retail_template"
  local db="sqlite:$retail_template/posfeed.db"
  echo "compare: creating $groups RmSystems with an API key each for the many-retailers rows" >&2
  : >"$retail_keys"
  for ((g = 0; g < groups; g++)); do
    "$posfeed" rmsystem create "r$g" --db "$db" >/dev/null
    echo "X-Api-Key: $("$posfeed" apikey create --db "$db" --rmsystem "r$g" --scopes '*' \
      | tail -n 1 | tr -d '[:space:]')" >>"$retail_keys"
  done
}

# start_posfeed_retailers: a copy of the many-retailers database, one server.
start_posfeed_retailers() {
  prepare_retailers
  local dir="$work/posfeed-$RANDOM$RANDOM"
  mkdir -p "$dir"
  cp "$retail_template"/posfeed.db* "$dir/"
  posfeed_config "$dir"
  pf_ports=()
  server_kind=posfeed
  pf_label=posfeed
  launch_posfeed "$dir" "$dir/posfeed.toml" "sqlite:$dir/posfeed.db"
}

# start_pg_scratch: once, the scratch PostgreSQL of the PostgreSQL rows, durable as
# PostgreSQL's defaults are (fsync and synchronous_commit on, said explicitly).
start_pg_scratch() {
  [[ -z "$pg_url" ]] || return 0
  # As root, pg-scratch runs the server as `postgres`, which must reach its directory.
  chmod 711 "$work"
  pg_dir="$work/postgres"
  # Pinned: PostgreSQL shares the server core with the posfeed nodes (pg_ctl and runuser
  # pass the affinity on to the postmaster and its backends).
  pg_url="$("${pin_server[@]}" scripts/pg-scratch start "$pg_dir" fsync=on synchronous_commit=on)"
  local settings
  settings="$("$pg_bin/psql" "$pg_url" -XAtqc "SELECT string_agg(name || ' = ' ||
    current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync',
    'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers',
    'max_connections')")"
  local note
  note="PostgreSQL rows: $("$pg_bin/postgres" --version), a scratch server (scripts/pg-scratch) on loopback TCP with $settings; a new database per row, dropped after it."
  notes+=("$note")
  echo "compare: $note" >&2
}

# start_posfeed_pg NODES [NOTIFY]: a new database on the scratch PostgreSQL and NODES fresh
# `posfeed serve` nodes on it, configured as the SQLite rows are; NOTIFY (after_commit or
# in_transaction) goes into every node's --db URL as posfeed_notify.
pg_db=""; pg_rows=0
start_posfeed_pg() {
  local nodes="$1" notify="${2:-}"
  start_pg_scratch
  pg_rows=$((pg_rows + 1))
  pg_db="bench_$pg_rows"
  "$pg_bin/psql" "$pg_url" -XqAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
  local db="${pg_url%/*}/$pg_db"
  local dir="$work/posfeed-pg-$pg_rows"
  mkdir -p "$dir"
  prepare_posfeed "$dir" "$db"
  pf_label="posfeed-pg$nodes"
  if [[ -n "$notify" ]]; then
    db+="?posfeed_notify=$notify"
    pf_label+="-$notify"
  fi
  local i
  for i in $(seq "$nodes"); do
    launch_posfeed "$dir/node$i" "$dir/posfeed.toml" "$db"
  done
  server_kind=posfeed-pg
}

# stop_posfeed_pg: once the nodes are stopped, the row's database goes (rows share none).
stop_posfeed_pg() {
  [[ -n "$pg_db" ]] || return 0
  "$pg_bin/psql" "$pg_url" -XqAt -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null || true
  pg_db=""
}

# pg_log_since OFFSET: what PostgreSQL logged at WARNING or worse past byte OFFSET of its log.
pg_log_since() {
  tail -c "+$(($1 + 1))" "$pg_dir/server.log" 2>/dev/null | grep -E '(WARNING|ERROR|FATAL|PANIC):' || true
}

nx_port=""
start_nchan() {
  local dir="$work/nchan-$RANDOM$RANDOM"
  mkdir -p "$dir"
  nx_port="$(free_port)"
  sed -e "s|@MODULE@|$nchan_module|" -e "s|@USER@|$(id -un)|" -e "s|@NOFILE@|$hard_nofile|" \
      -e "s|@PREFIX@|$dir|g" -e "s|@CONNECTIONS@|$((hard_nofile - 100))|" \
      -e "s|@PORT@|$nx_port|" "$here/nchan.conf" >"$dir/nginx.conf"
  (ulimit -n "$hard_nofile"; exec "${pin_server[@]}" nginx -p "$dir" -c "$dir/nginx.conf" \
    -e "$dir/error.log") \
    >"$dir/nginx.out" 2>&1 &
  server_pids=($!)
  server_kind=nchan
  local up=0
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$nx_port") 2>/dev/null; then up=1; break; fi
    kill -0 "${server_pids[0]}" 2>/dev/null || break
    sleep 0.1
  done
  if ((!up)); then
    echo "compare: nginx did not start:" >&2
    cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.3 # the workers
  server_log_files=("$dir/error.log")
}

# wait_port PORT PID: until something listens on 127.0.0.1:PORT (0), or PID exits / 10 s (1).
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_pushpin: a fresh Pushpin (bench/pushpin/pushpin.conf, its own run and log directories)
# in front of a fresh origin (bench/pushpin/origin.conf, Debian's nginx answering GRIP).
# server_pids gets the runner (its children, condure, zurl, pushpin-proxy and pushpin-handler,
# are found by pid_flags) and the origin's master last; only Pushpin's processes are sampled.
pp_port=""; pp_control_port=""; pp_origin_pid=""
start_pushpin() {
  local dir="$work/pushpin-$RANDOM$RANDOM"
  mkdir -p "$dir/run" "$dir/log"
  local origin_port
  origin_port="$(free_port)"; pp_port="$(free_port)"; pp_control_port="$(free_port)"
  sed -e "s|@PREFIX@|$dir|g" -e "s|@USER@|$(id -un)|" -e "s|@PORT@|$origin_port|" \
    "$here/pushpin/origin.conf" >"$dir/origin.conf"
  sed -e "s|@ORIGIN_PORT@|$origin_port|" "$here/pushpin/routes" >"$dir/routes"
  sed -e "s|@PREFIX@|$dir|g" -e "s|@HTTP_PORT@|$pp_port|" -e "s|@CONTROL_PORT@|$pp_control_port|" \
    -e "s|@CONNECTIONS@|$((hard_nofile - 100))|" "$here/pushpin/pushpin.conf" >"$dir/pushpin.conf"
  (exec "${pin_server[@]}" nginx -p "$dir" -c "$dir/origin.conf" -e "$dir/origin-error.log") \
    >"$dir/origin.out" 2>&1 &
  pp_origin_pid=$!
  (ulimit -n "$hard_nofile"; exec "${pin_server[@]}" pushpin --config "$dir/pushpin.conf") \
    >"$dir/pushpin.out" 2>&1 &
  server_pids=($! "$pp_origin_pid")
  server_kind=pushpin
  if ! wait_port "$origin_port" "$pp_origin_pid" || ! wait_port "$pp_port" "${server_pids[0]}" \
    || ! wait_port "$pp_control_port" "${server_pids[0]}"; then
    echo "compare: pushpin did not start:" >&2
    cat "$dir/pushpin.out" "$dir/origin.out" "$dir"/log/*.log >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.3 # the handler's and proxy's ZeroMQ sockets
  # log_level 1 in pushpin.conf: these hold warnings and errors only.
  server_log_files=("$dir/log/pushpin-proxy.log" "$dir/log/pushpin-handler.log"
    "$dir/log/condure.log" "$dir/log/zurl.log" "$dir/origin-error.log")
}

# The --server-pid flags: every posfeed process of the row; nginx is the master and its
# workers; Pushpin the runner and its children (not the origin).
pid_flags() {
  local pid p
  for pid in "${server_pids[@]}"; do
    [[ "$server_kind" == pushpin && "$pid" == "$pp_origin_pid" ]] && continue
    echo "--server-pid $pid"
    if [[ "$server_kind" == nchan || "$server_kind" == pushpin ]]; then
      for p in $(pgrep -P "$pid"); do echo "--server-pid $p"; done
    fi
  done
}

# join_urls PATH: http://127.0.0.1:PORT/PATH for every posfeed node of the row, comma
# separated (posfeed-bench spreads streams and publish connections round-robin over them).
join_urls() {
  local port list=""
  for port in "${pf_ports[@]}"; do list+="${list:+,}http://127.0.0.1:$port/$1"; done
  echo "$list"
}

# Server-specific flags of posfeed-bench. CHANNEL names an Nchan channel (fresh per run).
posfeed_flags() { # WANT_RESUME(0|1)
  local resume=""
  [[ "$1" == 1 ]] && resume="&rve=0"
  printf '%s\n' --label "$pf_label" --header "X-Api-Key: $pf_key" \
    --stream-url "$(join_urls "eventsource?want=products$resume")" --live-on ready \
    --publish-url "$(join_urls openapi/Products)" --content-type application/json \
    --publish-body '{"Description":"bench-{seq}- {pad}","Price":1}' --pad 35
}
nchan_flags() { # CHANNEL WANT_RESUME(0|1)
  local url="http://127.0.0.1:$nx_port"
  local sub=sub
  [[ "$2" == 1 ]] && sub=replay
  printf '%s\n' --label nchan --stream-url "$url/$sub/$1" --live-on headers \
    --publish-url "$url/pub/$1" --content-type text/plain \
    --publish-body 'bench-{seq}- {pad}' --pad 187
}

# The many-retailers flags of posfeed: no common key, each group's own (--group-headers).
posfeed_retail_flags() {
  printf '%s\n' --label posfeed --group-headers "$retail_keys" \
    --stream-url "$(join_urls "eventsource?want=products")" --live-on ready \
    --publish-url "$(join_urls openapi/Products)" --content-type application/json \
    --publish-body '{"Description":"bench-{seq}- {pad}","Price":1}' --pad 35
}

# Pushpin: subscribe through the proxy (the origin names the channel), publish through the
# control API; the data is the same as Nchan's ("bench-<seq>- " and 187 filler characters).
pushpin_flags() { # CHANNEL
  printf '%s\n' --label pushpin --stream-url "http://127.0.0.1:$pp_port/sub/$1" \
    --live-on headers --concurrency "$pushpin_concurrency" \
    --publish-url "http://127.0.0.1:$pp_control_port/publish/" --content-type application/json \
    --publish-body '{"items":[{"channel":"'"$1"'","formats":{"http-stream":{"content":"event: message\ndata: bench-{seq}- {pad}\n\n"}}}]}' \
    --pad 187
}

# run SERVER WORKLOAD [ARGS...]: a fresh server, one posfeed-bench run, the server stopped.
# SERVER: posfeed (SQLite), nchan, pushpin, retail:posfeed|nchan|pushpin (the many-retailers
# setup: posfeed with its 1,000 RmSystems and keys, the peers with a channel per {group}), or
# pg:NODES[:NOTIFY] (NODES posfeed nodes on a new PostgreSQL database, with
# posfeed_notify=NOTIFY in their URL when given).
run() {
  local server="$1" workload="$2"
  shift 2
  local -a flags
  local resume=0
  [[ "$workload" == replay ]] && resume=1
  local pg_log_offset=0
  case "$server" in
  posfeed)
    start_posfeed
    mapfile -t flags < <(posfeed_flags "$resume")
    ;;
  nchan)
    start_nchan
    mapfile -t flags < <(nchan_flags "ch$RANDOM" "$resume")
    ;;
  pushpin)
    start_pushpin
    mapfile -t flags < <(pushpin_flags "ch$RANDOM")
    ;;
  retail:posfeed)
    start_posfeed_retailers
    mapfile -t flags < <(posfeed_retail_flags)
    ;;
  retail:nchan)
    start_nchan
    mapfile -t flags < <(nchan_flags "ch${RANDOM}_{group}" 0)
    ;;
  retail:pushpin)
    start_pushpin
    mapfile -t flags < <(pushpin_flags "ch${RANDOM}_{group}")
    ;;
  pg:*)
    local kind nodes notify
    IFS=: read -r kind nodes notify <<<"$server"
    start_pg_scratch
    pg_log_offset="$(stat -c %s "$pg_dir/server.log")"
    start_posfeed_pg "$nodes" "$notify"
    server="$pf_label"
    mapfile -t flags < <(posfeed_flags "$resume")
    ;;
  esac
  local -a pids
  read -r -a pids <<<"$(pid_flags | tr '\n' ' ')"
  local -a cmd=("${pin_tool[@]}" "$bench" "$workload" "$@")
  cmd+=("${flags[@]}" "${pids[@]}")
  # The log of commands (once per row, not per repeat), with the throwaway key, per-run ports
  # and channels made generic.
  ((rep > 1)) || printf '%q ' "${cmd[@]}" | sed -e "s|$root/||g" -e "s|$work/|\$WORK/|g" \
    -e "s|pfk_[0-9a-f_]*|\$KEY|g" \
    -e "s|127\.0\.0\.1:[0-9]*|127.0.0.1:PORT|g" -e "s|--server-pid [0-9]*|--server-pid PID|g" \
    >>"$commands"
  ((rep > 1)) || echo >>"$commands"
  echo "compare: $server $workload $* (run $rep of $repeat)" >&2
  local line
  if ! line="$("${cmd[@]}" 2> >(sed 's/^/    /' >&2))"; then
    echo "compare: posfeed-bench failed for $server $workload" >&2
    line="{\"workload\":\"$workload\",\"label\":\"$server\",\"error\":\"posfeed-bench failed\"}"
  fi
  local i
  for i in "${!server_pids[@]}"; do
    if ! kill -0 "${server_pids[$i]}" 2>/dev/null; then
      echo "compare: $server (process $((i + 1))) exited during $workload; its log:" >&2
      tail -n 20 "${server_log_files[$i]:-/dev/null}" >&2 || true
    fi
  done
  # Server warnings and errors (posfeed logs at warn here) go to stderr for the record; with
  # several nodes, each node's.
  local log who summary
  for i in "${!server_log_files[@]}"; do
    log="${server_log_files[$i]}"
    [[ -s "$log" ]] || continue
    who="$server"
    if [[ "$server_kind" == pushpin ]]; then
      who+=" $(basename "$log" .log)"
    elif ((${#server_log_files[@]} > 1)); then
      who+=" node $((i + 1))"
    fi
    summary="$who $workload $* (run $rep): $(wc -l <"$log") log lines; first: \`$(head -n 1 "$log")\`"
    [[ $(wc -l <"$log") -gt 1 ]] && summary+="; last: \`$(tail -n 1 "$log")\`"
    echo "    $summary" >&2
    echo "$summary" >>"$server_logs"
  done
  stop_server
  if [[ "$server_kind" == posfeed-pg ]]; then
    stop_posfeed_pg
    local pg_logged
    pg_logged="$(pg_log_since "$pg_log_offset")"
    if [[ -n "$pg_logged" ]]; then
      summary="PostgreSQL during $server $workload $* (run $rep): $(wc -l <<<"$pg_logged") lines at WARNING or worse; first: \`$(head -n 1 <<<"$pg_logged")\`"
      echo "    $summary" >&2
      echo "$summary" >>"$server_logs"
    fi
  fi
  # Which repeat it was goes into the line (results_table.py takes the median over them).
  echo "$line" | sed "s/^{/{\"repeat\":$rep,/" | tee -a "$out_jsonl" >&2
}

# repeated COMMAND...: COMMAND (a block of run calls) $repeat times, rep = 1, 2, …; the
# servers of a block take turns, so a slow minute of the machine spreads over all of them.
rep=1
repeated() {
  for ((rep = 1; rep <= repeat; rep++)); do "$@"; done
  rep=1
}

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
t0=$SECONDS
peers=(posfeed nchan pushpin)
for n in "${sizes[@]}"; do
  rate="$(rate_for "$n")"
  idle_row() { for server in "${peers[@]}"; do run "$server" idle --subscribers "$n" --settle-s 2; done; }
  fanout_row() {
    for server in "${peers[@]}"; do
      run "$server" fanout --subscribers "$n" --rate "$rate" --seconds "$fan_seconds" \
        --drain-s "$drain"
    done
  }
  if wants idle; then repeated idle_row; fi
  if wants fanout; then repeated fanout_row; fi
done
# Capacity: at N = 10,000 (1,000 with --quick), a rate neither server keeps up with on 2 cores
# (300,000 deliveries offered a second); deliveries/s then measures how fast each one fans out.
saturate_row() {
  for server in "${peers[@]}"; do
    run "$server" fanout --subscribers "$sat_n" --rate "$sat_rate" --seconds "$sat_seconds" \
      --drain-s 30
  done
}
# Many retailers: each size against every server (streams over groups, the same publishes).
retailers_row() {
  local size
  for size in "${ret_sizes[@]}"; do
    for server in "${peers[@]}"; do
      run "retail:$server" fanout --subscribers "${size%:*}" --groups "${size#*:}" \
        --rate "$ret_rate" --seconds "$ret_seconds" --drain-s "$drain" \
        --publishers "$ret_publishers"
    done
  done
}
# Pushpin keeps no history: no replay row for it.
replay_row() {
  for server in posfeed nchan; do
    run "$server" replay --events "$replay_events" --publishers 64 --rate "$replay_rate"
  done
}
write_row() {
  for server in "${peers[@]}"; do
    run "$server" write --writers "$writers" --seconds "$write_seconds"
  done
}
if wants saturate; then repeated saturate_row; fi
if wants retailers; then repeated retailers_row; fi
if wants replay; then repeated replay_row; fi
if wants write; then repeated write_row; fi
# PostgreSQL, posfeed only (Nchan has no such mode): durable writes through one node, through
# three (writers round-robin over them), the same with the NOTIFY inside the write
# transaction, and the cross-node fan-out (streams and publishes round-robin over three).
pg_rows() {
  run pg:1 write --writers "$writers" --seconds "$write_seconds"
  run "pg:$pg_nodes" write --writers "$writers" --seconds "$write_seconds"
  run "pg:$pg_nodes:in_transaction" write --writers "$writers" --seconds "$write_seconds"
  run "pg:$pg_nodes" fanout --subscribers "$pg_fan_n" --rate "$pg_fan_rate" \
    --seconds "$pg_fan_seconds" --drain-s 30 --publishers "$pg_fan_publishers"
}
if wants pg; then repeated pg_rows; fi
elapsed=$((SECONDS - t0))

# ---- the table
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
python3 "$here/results_table.py" "$out_jsonl" \
  --machine "$(uname -a)" --cores "$(nproc)" --cpu "$cpu" --memory "$mem" \
  --date "$started" --commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --nginx "$(nginx -v 2>&1)" --nchan "$(dpkg-query -W -f='${Version}' libnginx-mod-nchan)" \
  --pushpin "$(dpkg-query -W -f='${Version}' pushpin)" --repeat "$repeat" \
  --charts "$(basename "$out_svg_latency")" --charts "$(basename "$out_svg_throughput")" \
  --postgres "$("$pg_bin/postgres" --version)" \
  --nofile "$hard_nofile" --elapsed "$elapsed" --commands "$commands" --server-logs "$server_logs" \
  --raw "$(basename "$out_jsonl")" "${notes[@]/#/--note=}" >"$out_md"
python3 "$here/plot_results.py" "$out_jsonl" --latency "$out_svg_latency" \
  --throughput "$out_svg_throughput" --title "$stamp $commit" ||
  echo "compare: the charts could not be drawn (see above)" >&2
cat "$out_md"
echo >&2
echo "compare: wrote $out_md, $out_jsonl, $out_svg_latency and $out_svg_throughput (${elapsed} s)" >&2
