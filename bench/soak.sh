#!/usr/bin/env bash
# A soak of one posfeed server (issue 14): for 30 minutes (by default) a steady mix of writes
# through the JSON API, subscribers that come and go, slow readers cut past
# limits.subscriber_queue_bytes, conflate=1 streams, resumes with Last-Event-ID and rve=; the
# server's RSS and open descriptors sampled every few seconds. At the end every subscriber's
# confirmed events are checked against the event log read from rve=0: nothing lost, duplicated
# or out of order. Prints the summary and writes it to bench/results/soak-<date>-<commit>.md
# with the samples in a .csv beside it; exits 1 when the check failed.
#
#   bench/soak.sh                     # 30 minutes
#   bench/soak.sh --minutes 2         # shorter (or --seconds 60)
#   bench/soak.sh --seconds 60 --self-test drop   # damages one record before the check: must FAIL
#
# Flags (defaults): --minutes N | --seconds N (30 min), --out DIR (bench/results), --rate 200
# (writes/s), --writers 16 (in flight), --subscribers 150 (at once), --queue-bytes 16384
# (limits.subscriber_queue_bytes), --sample-s 5, --slow-pause-s 180 / --conflate-pause-s 150 (the
# longest pause of a slow / conflate=1 reader), --catch-up-cuts 0.5 (share of conflate=1 stalls
# the driver cuts inside the catch-up), --pad 120 (description padding), --seed N,
# --self-test drop|dup|swap, --keep.
#
# Opt-in, not part of scripts/test. Needs Node >= 20 (built-ins only) and a built posfeed
# (build/release/src/posfeed, or SOAK_BUILD_DIR=DIR for DIR/src/posfeed); it does not build.
# The binary is copied into a temporary directory first (a rebuild during the run does not touch
# the running server). Everything it starts is stopped and the temporary directory removed on
# exit, Ctrl-C included (--keep keeps the directory: data, config, server log).
# bench/README.md ("The soak") says what the workload does and how to read the summary.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

usage() {
  sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

seconds=1800
out="$here/results"
keep=0
queue_bytes=16384
driver_args=()
while (($#)); do
  case "$1" in
  --minutes) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; seconds=$(($2 * 60)); shift 2 ;;
  --seconds) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; seconds=$2; shift 2 ;;
  --out) [[ -n "${2:-}" ]] || usage; out="$2"; shift 2 ;;
  --queue-bytes) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; queue_bytes=$2; shift 2 ;;
  --keep) keep=1; shift ;;
  --rate | --subscribers | --writers | --sample-s | --slow-pause-s | --conflate-pause-s | --catch-up-cuts | --pad | --seed | --self-test)
    [[ -n "${2:-}" ]] || usage; driver_args+=("$1" "$2"); shift 2 ;;
  -h | --help) usage ;;
  *) echo "soak: unknown option $1" >&2; usage ;;
  esac
done
((seconds > 0)) || { echo "soak: the run must last at least a second" >&2; exit 2; }

command -v node >/dev/null || { echo "soak: node (>= 20) is needed" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || { echo "soak: node >= 20 is needed, this is $(node --version)" >&2; exit 1; }
build_dir="$(realpath -m "${SOAK_BUILD_DIR:-$root/build/release}")"
[[ -x "$build_dir/src/posfeed" ]] || { echo "soak: no $build_dir/src/posfeed: build it first (scripts/build)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/posfeed-soak-XXXXXX")"
server_pid=""
driver_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$driver_pid" ]] && kill -TERM "$driver_pid" 2>/dev/null || true
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  if ((keep)); then
    echo "soak: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The binary as it is now: a rebuild during the run must not replace it under the server.
cp "$build_dir/src/posfeed" "$work/posfeed"
posfeed="$work/posfeed"
db="sqlite:$work/data/soak.db"
mkdir -p "$work/data"
"$posfeed" rmsystem create 1 --db "$db" >/dev/null 2>&1
key="$("$posfeed" apikey create --rmsystem 1 --scopes '*' --db "$db" | tail -n 1)"
[[ "$key" == pfk_* ]] || { echo "soak: apikey create printed no key" >&2; exit 1; }

# One key for every stream and write: the per-credential limits are raised (they stop abuse,
# not load); the queue limit is small so slow readers pass it within a pause; keepalives every
# 5 s so idle streams exercise them too.
cat >"$work/posfeed.toml" <<EOF
log_format = "json"

[feed]
keepalive_ms = 5000

[limits]
streams_per_credential = 100000
max_connections = 5000
writes_per_second = 1000000000
write_burst = 1000000000
subscriber_queue_bytes = $queue_bytes
EOF

hard_nofile="$(ulimit -Hn)"
[[ "$hard_nofile" == unlimited ]] || ulimit -n "$hard_nofile"
"$posfeed" serve --config "$work/posfeed.toml" --db "$db" --listen 127.0.0.1:0 \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 150); do
  port="$(sed -n 's#^posfeed listening on http://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$work/server.out" 2>/dev/null || true)"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "soak: posfeed did not start:" >&2
  cat "$work/server.out" "$work/server.log" >&2
  exit 1
fi

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
label="commit $commit"
git -C "$root" diff --quiet HEAD -- src 2>/dev/null || label+=" (src/ has uncommitted changes)"
label+=", binary built $(date -u -r "$build_dir/src/posfeed" +'%Y-%m-%d %H:%M') UTC"
mkdir -p "$out"
base="$out/soak-$(date -u +%Y-%m-%d-%H%M)-$commit"
echo "soak: posfeed pid $server_pid on 127.0.0.1:$port for $seconds s; writing $base.md/.csv" >&2

rc=0
node "$here/soak.mjs" --port "$port" --key "$key" --server-pid "$server_pid" --seconds "$seconds" \
  --out-base "$base" --server-log "$work/server.log" --config "$work/posfeed.toml" \
  --label "$label" "${driver_args[@]}" &
driver_pid=$!
wait "$driver_pid" || rc=$?
driver_pid=""
((rc >= 128)) && exit "$rc" # the driver was interrupted: cleanup stops the server

# The server must still be running, and stop cleanly.
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "soak: the server exited during the run:" >&2
  tail -n 20 "$work/server.log" >&2
  exit 1
fi
kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=""
if ((server_rc != 0)); then
  echo "soak: the server exited with $server_rc on SIGTERM" >&2
  ((rc == 0)) && rc=1
fi
exit "$rc"
