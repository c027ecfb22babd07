#!/usr/bin/env bash
# Memory of a large snapshot (SPEC 3 snapshot=1, SPEC 11): loads PRODUCTS products (default
# 100,000) through the JSON API into a fresh server, then streams want=products&snapshot=1 to
# the end of the snapshot (the `ready` event) and reports how much the server's resident memory
# grew while it sent it. A snapshot is read page by page from one consistent read, so the growth
# should stay small and not scale with the catalogue.
#
#   POSFEED_BIN=build/release/src/posfeed bench/snapshot_memory.sh
#   PRODUCTS=20000 CONCURRENCY=32 bench/snapshot_memory.sh
#
# Opt-in: not part of the test suite. Builds nothing; needs bash, curl, awk and node (>= 18).
# Prints: products, snapshot events and records, bytes, seconds, RSS before, peak RSS during
# (sampled every 20 ms), VmHWM after, delta (peak during - before).

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
bin="${POSFEED_BIN:-$root/build/release/src/posfeed}"
products="${PRODUCTS:-100000}"
concurrency="${CONCURRENCY:-64}"

if [[ ! -x "$bin" ]]; then
  echo "snapshot_memory: no posfeed binary at $bin; build it or set POSFEED_BIN" >&2
  exit 2
fi
for tool in curl awk node; do
  command -v "$tool" >/dev/null || { echo "snapshot_memory: $tool is required" >&2; exit 2; }
done

# mawk reads a pipe in large blocks and would sit on the `ready` line until more bytes come;
# -W interactive makes it read line by line.
awk_lines=(awk)
if awk -W version 2>&1 | grep -q mawk; then
  awk_lines=(awk -W interactive)
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/posfeed-snapmem-XXXXXX")"
server_pid=""
sampler_pid=""
curl_pid=""
cleanup() {
  if [[ -n "$curl_pid" ]]; then
    kill "$curl_pid" 2>/dev/null || true
    wait "$curl_pid" 2>/dev/null || true
  fi
  if [[ -n "$sampler_pid" ]]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
  fi
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db="sqlite:$dir/p.db"
"$bin" rmsystem create 1 --db "$db" >/dev/null
key="$("$bin" apikey create --db "$db" --rmsystem 1 --scopes '*' | tail -n 1 | tr -d '[:space:]')"

# The loader is one credential: lift the per-credential write rate limit for it.
printf '[limits]\nwrites_per_second = 1000000\nwrite_burst = 1000000\n' >"$dir/posfeed.toml"
"$bin" serve --listen 127.0.0.1:0 --db "$db" --config "$dir/posfeed.toml" >"$dir/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 150); do
  port="$(sed -n 's|^posfeed listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$dir/server.log" | head -n 1)"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "snapshot_memory: the server exited:" >&2; cat "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "snapshot_memory: the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
url="http://127.0.0.1:$port"

kib() { # kib FIELD: a field of /proc/<server>/status in KiB
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$server_pid/status"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# Load the catalogue: POST /openapi/Products with many requests in flight over keep-alive.
echo "loading $products products with $concurrency requests in flight..." >&2
load_start=$(date +%s.%N)
PORT="$port" KEY="$key" N="$products" C="$concurrency" node --input-type=module -e '
import http from "node:http";
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(process.env.C) });
const n = Number(process.env.N);
let next = 0;
let done = 0;
const post = (i) => new Promise((resolve, reject) => {
  const body = JSON.stringify({
    Description: `benchmark product ${i} with a description of a realistic length`,
    Price: (i % 10000) / 100,
    Colour: ["Red", "Green", "Blue"][i % 3],
    Barcode: String(4000000000000 + i),
    Publish: i % 2,
  });
  const req = http.request({ host: "127.0.0.1", port: Number(process.env.PORT), method: "POST",
    path: "/openapi/Products", agent, headers: { "X-Api-Key": process.env.KEY,
    "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
  });
  req.on("error", reject);
  req.end(body);
});
const worker = async () => {
  while (next < n) {
    const i = next++;
    for (let attempt = 0; ; attempt++) {
      try { await post(i); break; } catch (e) { if (attempt >= 5) throw e; await new Promise((r) => setTimeout(r, 100)); }
    }
    if (++done % 20000 === 0) process.stderr.write(`  ${done}\n`);
  }
};
await Promise.all(Array.from({ length: Number(process.env.C) }, worker));
agent.destroy();
'
load_end=$(date +%s.%N)
echo "loaded in $(awk -v a="$load_start" -v b="$load_end" 'BEGIN { printf "%.1f", b - a }') s" >&2
sleep 1 # let the writer settle
rss_before=$(kib VmRSS)
hwm_before=$(kib VmHWM)

# Sample VmRSS during the snapshot.
: >"$dir/rss"
(
  while kill -0 "$server_pid" 2>/dev/null; do
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$server_pid/status" >>"$dir/rss" 2>/dev/null || true
    sleep 0.02
  done
) &
sampler_pid=$!

# Stream the snapshot to the end (ready), counting events, records and bytes. curl writes into
# a FIFO so that the clock stops when `ready` is read, not when curl next writes (a keepalive).
mkfifo "$dir/stream"
snap_start=$(date +%s.%N)
curl -sN -H "X-Api-Key: $key" "$url/eventsource?want=products&snapshot=1" >"$dir/stream" &
curl_pid=$!
counts="$("${awk_lines[@]}" '
  { bytes += length($0) + 1 }
  /^event: products$/ { events++ }
  /^data: / { records += gsub(/"Pid":/, "&") }
  /^event: ready$/ { exit }
  END { printf "%d %d %d\n", events, records, bytes }
' <"$dir/stream")"
snap_end=$(date +%s.%N)
kill "$curl_pid" 2>/dev/null || true
wait "$curl_pid" 2>/dev/null || true
curl_pid=""
sleep 0.1
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""

read -r events records bytes <<<"$counts"
rss_peak=$(sort -n "$dir/rss" | tail -n 1)
rss_peak=${rss_peak:-$rss_before}
hwm_after=$(kib VmHWM)
rss_after=$(kib VmRSS)
seconds=$(awk -v a="$snap_start" -v b="$snap_end" 'BEGIN { printf "%.2f", b - a }')

printf '%-28s %s\n' \
  "products" "$products" \
  "snapshot events" "$events" \
  "snapshot records" "$records" \
  "bytes" "$bytes" \
  "seconds" "$seconds" \
  "RSS before" "$(mib "$rss_before") (VmHWM $(mib "$hwm_before"), after loading)" \
  "peak RSS during (sampled)" "$(mib "$rss_peak") ($(wc -l <"$dir/rss") samples)" \
  "VmHWM after" "$(mib "$hwm_after")" \
  "RSS after" "$(mib "$rss_after")" \
  "delta (peak - before)" "$(mib $((rss_peak - rss_before)))"

if [[ "$records" != "$products" ]]; then
  echo "snapshot_memory: the snapshot held $records records, expected $products" >&2
  exit 1
fi
