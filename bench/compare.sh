#!/usr/bin/env bash
# posfeed against nginx + Nchan on loopback (SPEC 11, issue 7): the same posfeed-bench
# workloads against both servers, one table with both figures and their ratio.
#
#   bench/compare.sh            # N = 1,000, 10,000 and the largest N up to 50,000 that fits
#   bench/compare.sh --quick    # N = 1,000 only, short runs (a smoke check, ~2 min)
#
# Opt-in, not part of the test command. Installs the missing Debian packages (the build's, and
# nginx + libnginx-mod-nchan), builds the release preset without the tests
# (scripts/build -DPOSFEED_TESTS=OFF: build/release/src/posfeed and
# build/release/bench/posfeed-bench), then for every row starts a fresh server (a new data
# directory for posfeed, a new nginx for Nchan), runs one workload and stops it. Writes the
# table to bench/results/<date>-<commit>.md and the raw result lines next to it (.jsonl).
# Environment: BENCH_SKIP_BUILD=1 uses the binaries as they are; BENCH_RESULTS=DIR writes
# elsewhere. bench/README.md explains the workloads and how to read the table.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

quick=0
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) echo "usage: bench/compare.sh [--quick]" >&2; exit 2 ;;
esac

# ---- packages and build
scripts/install-deps
nchan_pkgs=()
for p in nginx libnginx-mod-nchan python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || nchan_pkgs+=("$p")
done
if ((${#nchan_pkgs[@]})); then
  echo "compare: installing ${nchan_pkgs[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  # policy-rc.d or not, the packaged nginx service is not used: this script starts its own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${nchan_pkgs[@]}" >/dev/null
fi
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  echo "compare: building (scripts/build -DPOSFEED_TESTS=OFF)" >&2
  scripts/build -DPOSFEED_TESTS=OFF >/dev/null
fi
posfeed="$root/build/release/src/posfeed"
bench="$root/build/release/bench/posfeed-bench"
nchan_module="$(dpkg -L libnginx-mod-nchan | grep -m1 'ngx_nchan_module\.so$')"
for f in "$posfeed" "$bench" "$nchan_module"; do
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
if ((quick)); then
  sizes=(1000)
  fan_seconds=5; drain=5; replay_events=20000; write_seconds=3
  sat_n=1000; sat_rate=300; sat_seconds=3
  notes+=("--quick: N = 1,000 only, 5 s fan-out (3 s saturating), 20,000 replayed events, 3 s of writes.")
else
  sizes=(1000 10000)
  ((max_n > 10000)) && sizes+=("$max_n")
  fan_seconds=20; drain=10; replay_events=100000; write_seconds=10
  sat_n=10000; sat_rate=30; sat_seconds=10
  if ((max_n < 50000)); then
    notes+=("N = 50,000 skipped: the hard open-file limit here is $hard_nofile (\`ulimit -Hn\`), it cannot be raised without CAP_SYS_RESOURCE, and one process (the posfeed server, or one posfeed-bench) holds one descriptor per stream; the largest N that fits with 1,000 spare is $max_n.")
  fi
fi
writers=64
# Replay publishes at most this many events per second into its channel, for both servers:
# faster than ~32,000/s into one channel, Nchan 1.3.6 logs "Missed message for eventsource
# subscriber: previous message id tags don't match" and the resuming stream stalls (message ids
# are a second and a per-second tag). posfeed publishes slower than this anyway.
replay_rate=20000
notes+=("replay: both servers get the events at most $replay_rate/s (faster than ~32,000/s into one channel Nchan 1.3.6 loses messages for the resuming stream, logging \"previous message id tags don't match\", and the stream stalls).")
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
work="$(mktemp -d "${TMPDIR:-/tmp}/posfeed-compare-XXXXXX")"
commands="$work/commands.txt"
server_logs="$work/server-logs.txt"
: >"$out_jsonl"
: >"$commands"
: >"$server_logs"

# ---- servers
server_pid=""
server_kind=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_posfeed: a fresh data directory, RmSystem 1 and an API key with every scope; the
# limits that would refuse a benchmark lifted (streams, connections, write rate); everything
# else at its default.
pf_key=""; pf_port=""
start_posfeed() {
  local dir="$work/posfeed-$RANDOM$RANDOM"
  mkdir -p "$dir"
  local db="sqlite:$dir/posfeed.db"
  "$posfeed" rmsystem create 1 --db "$db" >/dev/null
  pf_key="$("$posfeed" apikey create --db "$db" --rmsystem 1 --scopes '*' | tail -n 1 | tr -d '[:space:]')"
  cat >"$dir/posfeed.toml" <<EOF
log_level = "warn"
[limits]
max_connections = $((hard_nofile - 100))
streams_per_credential = 100000
writes_per_second = 1000000000
write_burst = 1000000000
EOF
  # exec: $! is the server itself. The server raises its soft limit too; this makes sure.
  (ulimit -n "$hard_nofile"; exec "$posfeed" serve --config "$dir/posfeed.toml" \
    --listen 127.0.0.1:0 --db "$db" >"$dir/server.out" 2>"$dir/server.err") &
  server_pid=$!
  server_kind=posfeed
  pf_port=""
  for _ in $(seq 100); do
    pf_port="$(sed -n 's|^posfeed listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$dir/server.out")"
    [[ -n "$pf_port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$pf_port" ]]; then
    echo "compare: posfeed did not start:" >&2
    cat "$dir/server.err" >&2
    exit 1
  fi
  server_log="$dir/server.err"
}

nx_port=""
start_nchan() {
  local dir="$work/nchan-$RANDOM$RANDOM"
  mkdir -p "$dir"
  nx_port="$(free_port)"
  sed -e "s|@MODULE@|$nchan_module|" -e "s|@USER@|$(id -un)|" -e "s|@NOFILE@|$hard_nofile|" \
      -e "s|@PREFIX@|$dir|g" -e "s|@CONNECTIONS@|$((hard_nofile - 100))|" \
      -e "s|@PORT@|$nx_port|" "$here/nchan.conf" >"$dir/nginx.conf"
  (ulimit -n "$hard_nofile"; exec nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log") \
    >"$dir/nginx.out" 2>&1 &
  server_pid=$!
  server_kind=nchan
  local up=0
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$nx_port") 2>/dev/null; then up=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ((!up)); then
    echo "compare: nginx did not start:" >&2
    cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.3 # the workers
  server_log="$dir/error.log"
}

# The --server-pid flags: posfeed is one process; nginx is the master and its workers.
pid_flags() {
  echo "--server-pid $server_pid"
  if [[ "$server_kind" == nchan ]]; then
    local p
    for p in $(pgrep -P "$server_pid"); do echo "--server-pid $p"; done
  fi
}

# Server-specific flags of posfeed-bench. CHANNEL names an Nchan channel (fresh per run).
posfeed_flags() { # WANT_RESUME(0|1)
  local url="http://127.0.0.1:$pf_port"
  local resume=""
  [[ "$1" == 1 ]] && resume="&rve=0"
  printf '%s\n' --label posfeed --header "X-Api-Key: $pf_key" \
    --stream-url "$url/eventsource?want=products$resume" --live-on ready \
    --publish-url "$url/openapi/Products" --content-type application/json \
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

# run SERVER WORKLOAD [ARGS...]: a fresh server, one posfeed-bench run, the server stopped.
run() {
  local server="$1" workload="$2"
  shift 2
  local -a flags
  if [[ "$server" == posfeed ]]; then
    start_posfeed
    local resume=0
    [[ "$workload" == replay ]] && resume=1
    mapfile -t flags < <(posfeed_flags "$resume")
  else
    start_nchan
    local resume=0
    [[ "$workload" == replay ]] && resume=1
    mapfile -t flags < <(nchan_flags "ch$RANDOM" "$resume")
  fi
  local -a pids
  read -r -a pids <<<"$(pid_flags | tr '\n' ' ')"
  local -a cmd=("$bench" "$workload" "$@")
  cmd+=("${flags[@]}" "${pids[@]}")
  # The log of commands, with the throwaway key and per-run ports made generic.
  printf '%q ' "${cmd[@]}" | sed -e "s|$root/||g" -e "s|pfk_[0-9a-f_]*|\$KEY|g" \
    -e "s|127\.0\.0\.1:[0-9]*|127.0.0.1:PORT|g" >>"$commands"
  echo >>"$commands"
  echo "compare: $server $workload $*" >&2
  local line
  if ! line="$("${cmd[@]}" 2> >(sed 's/^/    /' >&2))"; then
    echo "compare: posfeed-bench failed for $server $workload" >&2
    line="{\"workload\":\"$workload\",\"label\":\"$server\",\"error\":\"posfeed-bench failed\"}"
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "compare: $server exited during $workload; its log:" >&2
    tail -n 20 "$server_log" >&2 || true
  fi
  # Server warnings and errors (posfeed logs at warn here) go to stderr for the record.
  if [[ -s "$server_log" ]]; then
    local summary
    summary="$server $workload $*: $(wc -l <"$server_log") log lines; first: \`$(head -n 1 "$server_log")\`"
    [[ $(wc -l <"$server_log") -gt 1 ]] && summary+="; last: \`$(tail -n 1 "$server_log")\`"
    echo "    $summary" >&2
    echo "$summary" >>"$server_logs"
  fi
  stop_server
  echo "$line" | tee -a "$out_jsonl" >&2
}

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
t0=$SECONDS
for n in "${sizes[@]}"; do
  for server in posfeed nchan; do
    run "$server" idle --subscribers "$n" --settle-s 2
  done
  rate="$(rate_for "$n")"
  for server in posfeed nchan; do
    run "$server" fanout --subscribers "$n" --rate "$rate" --seconds "$fan_seconds" \
      --drain-s "$drain"
  done
done
# Capacity: at N = 10,000 (1,000 with --quick), a rate neither server keeps up with on 2 cores
# (300,000 deliveries offered a second); deliveries/s then measures how fast each one fans out.
for server in posfeed nchan; do
  run "$server" fanout --subscribers "$sat_n" --rate "$sat_rate" --seconds "$sat_seconds" \
    --drain-s 30
done
for server in posfeed nchan; do
  run "$server" replay --events "$replay_events" --publishers 64 --rate "$replay_rate"
done
for server in posfeed nchan; do
  run "$server" write --writers "$writers" --seconds "$write_seconds"
done
elapsed=$((SECONDS - t0))

# ---- the table
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
python3 "$here/results_table.py" "$out_jsonl" \
  --machine "$(uname -a)" --cores "$(nproc)" --cpu "$cpu" --memory "$mem" \
  --date "$started" --commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --nginx "$(nginx -v 2>&1)" --nchan "$(dpkg-query -W -f='${Version}' libnginx-mod-nchan)" \
  --nofile "$hard_nofile" --elapsed "$elapsed" --commands "$commands" --server-logs "$server_logs" \
  --raw "$(basename "$out_jsonl")" "${notes[@]/#/--note=}" >"$out_md"
cat "$out_md"
echo >&2
echo "compare: wrote $out_md and $out_jsonl (${elapsed} s)" >&2
