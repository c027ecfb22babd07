#!/usr/bin/env python3
"""Draws the charts of one bench/compare.sh run from its result lines, with gnuplot (Debian's
gnuplot-nox), as SVG:

- LATENCY: publish-to-receive latency p50, p99 and max per server, for every fan-out row
  (the SQLite rows: posfeed, Nchan, Pushpin), bars on a log scale. posfeed-bench's lines
  carry only p50/p99/max/mean, not the distribution, so this is not a CDF.
- THROUGHPUT: each row's throughput per server (fan-out deliveries/s, replay events/s,
  acknowledged writes/s), bars on a log scale.

Figures are medians over the repeats, as in the Markdown report.

    plot_results.py RESULTS.jsonl --latency OUT.svg --throughput OUT.svg [--title TEXT]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

SERVERS = ("posfeed", "nchan", "pushpin")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def median(rows, *path):
    values = []
    for r in rows:
        for key in path:
            r = r.get(key) if isinstance(r, dict) else None
        if isinstance(r, (int, float)) and not isinstance(r, bool):
            values.append(r)
    return statistics.median(values) if values else None


def groups(rows, workload):
    """The rows of one workload as (category, {server: [lines]}), in the order first seen."""
    out = {}
    for r in rows:
        if r.get("workload") != workload or r.get("label") not in SERVERS or "error" in r:
            continue
        if workload == "fanout":
            key = f"{r.get('subscribers'):,} × {r.get('rate'):g}/s"
        elif workload == "replay":
            key = f"replay {r.get('events'):,}"
        else:
            key = f"write {r.get('writers')}w"
        out.setdefault(key, {}).setdefault(r["label"], []).append(r)
    return list(out.items())


def write_data(path, table):
    """table: [(category, [value or None per server])]; '-' is gnuplot's missing value."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("category " + " ".join(SERVERS) + "\n")
        for category, values in table:
            cells = ["-" if v is None or v <= 0 else f"{v:.6g}" for v in values]
            f.write(f'"{category}" ' + " ".join(cells) + "\n")


def plot(data, out, title, ylabel, present):
    """present: the servers with a figure (the others' columns are left out of the key)."""
    colours = {"posfeed": "#1f77b4", "nchan": "#ff7f0e", "pushpin": "#2ca02c"}
    columns = [f'"{data}" using {i + 2}:xtic(1) title "{s}" lc rgb "{colours[s]}"'
               for i, s in enumerate(SERVERS) if s in present]
    script = f"""
set terminal svg size 1000,520 dynamic font "sans,11" background "white"
set output "{out}"
set title "{title}"
set datafile missing "-"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics
set ylabel "{ylabel}"
set xtics rotate by -30 noenhanced
set key top left noenhanced
set yrange [*:*]
plot {", ".join(columns)}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--latency", required=True)
    ap.add_argument("--throughput", required=True)
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    rows = load(args.results)

    latency = []
    for category, by_server in groups(rows, "fanout"):
        for q in ("p50", "p99", "max"):
            latency.append((f"{category} {q}",
                            [median(by_server.get(s, []), "latency_ms", q) for s in SERVERS]))
    throughput = []
    for workload, metric, unit in (("fanout", "deliveries_per_s", "deliveries/s"),
                                   ("replay", "events_per_s", "events/s"),
                                   ("write", "commits_per_s", "acked writes/s")):
        for category, by_server in groups(rows, workload):
            throughput.append((f"{category} ({unit})",
                               [median(by_server.get(s, []), metric) for s in SERVERS]))

    with tempfile.TemporaryDirectory() as tmp:
        for table, out, what, ylabel in (
                (latency, args.latency, "publish-to-receive latency (p50, p99, max) per fan-out "
                 "row", "ms (log scale)"),
                (throughput, args.throughput, "throughput per row", "per second (log scale)")):
            if not table:
                # No such rows in this run (--only): say so in an empty chart.
                table = [("no rows in this run", [None, None, None])]
            data = os.path.join(tmp, os.path.basename(out) + ".dat")
            write_data(data, table)
            if all(v is None for _, values in table for v in values):
                with open(out, "w", encoding="utf-8") as f:
                    f.write('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="60">'
                            f'<text x="10" y="35">{what}: no rows in this run</text></svg>\n')
                continue
            present = {s for i, s in enumerate(SERVERS)
                       if any(values[i] is not None for _, values in table)}
            plot(data, out, f"{what} — {args.title} (medians)", ylabel, present)
    return 0


if __name__ == "__main__":
    sys.exit(main())
