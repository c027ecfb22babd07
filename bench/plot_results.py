#!/usr/bin/env python3
"""Draws the charts of one bench/compare.sh run from its result lines, with gnuplot (Debian's
gnuplot-nox), as SVG:

- LATENCY: the publish-to-receive latency distribution (CDF) of every fan-out row whose lines
  carry "latency_cdf_ms": one panel per row in a grid (the ordinary fan-out rows by streams
  and rate, the many-retailers rows by streams, groups and rate, and the PostgreSQL cross-node
  row, posfeed's alone), x the latency in ms on a log scale (0 ms drawn at 0.01 ms), y the
  fraction of deliveries, one line per server; over the repeats, the median latency at each
  fraction. Results from before "latency_cdf_ms" get the old chart instead: p50, p99 and max
  per server for every fan-out row, bars on a log scale.
- THROUGHPUT: each row's throughput per server (fan-out and many-retailers deliveries/s,
  replay events/s, acknowledged writes/s), bars on a log scale.

Figures are medians over the repeats, as in the Markdown report. A fan-out line with
"groups" > 1 is a many-retailers row (results_table.py's "retailers").

    plot_results.py RESULTS.jsonl --latency OUT.svg --throughput OUT.svg [--title TEXT]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

# The result lines, read as the report reads them (a many-retailers line as "retailers").
from results_table import PG_FANOUT_LABEL, load

SERVERS = ("posfeed", "nchan", "pushpin")
COLOURS = {"posfeed": "#1f77b4", "nchan": "#ff7f0e", "pushpin": "#2ca02c"}
# A latency of 0 ms has no place on a log axis: it is drawn at this.
CDF_FLOOR_MS = 0.01


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
        elif workload == "retailers":
            key = f"retail {r.get('subscribers'):,}/{r.get('groups'):,}g"
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
    columns = [f'"{data}" using {i + 2}:xtic(1) title "{s}" lc rgb "{COLOURS[s]}"'
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


def median_cdf(cdfs):
    """The pointwise median over the repeats: [(ms, fraction)], ms at least CDF_FLOOR_MS."""
    at = {}
    for cdf in cdfs:
        for point in cdf:
            if isinstance(point, list) and len(point) == 2 and \
                    all(isinstance(v, (int, float)) for v in point):
                at.setdefault(round(point[0], 6), []).append(point[1])
    return [(max(statistics.median(ms), CDF_FLOOR_MS), q) for q, ms in sorted(at.items())]


def cdf_panels(rows):
    """The fan-out rows with a latency CDF as [(title, [(label, [(ms, fraction)])])]: the
    ordinary ones, then the many-retailers ones, then the PostgreSQL one, each in the order
    first seen."""
    found = {}
    for r in rows:
        if "error" in r or not r.get("latency_cdf_ms"):
            continue
        workload, label = r.get("workload"), r.get("label")
        n, rate = r.get("subscribers") or 0, r.get("rate") or 0
        if workload == "fanout" and label in SERVERS:
            key = (0, f"fan-out: {n:,} streams × {rate:,g} events/s")
        elif workload == "retailers" and label in SERVERS:
            key = (1, f"many retailers: {n:,} streams in {r.get('groups') or 0:,} groups, "
                      f"{rate:,g} events/s")
        elif workload == "fanout" and label == PG_FANOUT_LABEL:
            key = (2, f"PostgreSQL, 3 nodes: {n:,} streams × {rate:,g} events/s")
        else:
            continue
        found.setdefault(key, {}).setdefault(label, []).append(r["latency_cdf_ms"])
    panels = []
    for (_, title), by_label in sorted(found.items(), key=lambda item: item[0][0]):
        lines = [(label, median_cdf(by_label[label])) for label in SERVERS + (PG_FANOUT_LABEL,)
                 if label in by_label]
        panels.append((title, [(label, points) for label, points in lines if points]))
    return [(title, lines) for title, lines in panels if lines]


def plot_cdf(panels, out, title, tmp):
    """One SVG, a gnuplot multiplot with a panel per fan-out row in a grid."""
    cols = 1 if len(panels) == 1 else 2 if len(panels) in (2, 4) else 3
    grid_rows = math.ceil(len(panels) / cols)
    script = [f'set terminal svg size {480 * cols},{360 * grid_rows + 40} dynamic '
              'font "sans,11" background "white"',
              f'set output "{out}"',
              "set termoption noenhanced",
              f'set multiplot layout {grid_rows},{cols} title "{quote(title)}"',
              "set logscale x", 'set format x "%g"', "set yrange [0:1]", "set ytics 0,0.1,1",
              "set grid xtics ytics", "set key bottom right",
              'set xlabel "publish-to-receive latency, ms (log scale)"',
              'set ylabel "fraction of deliveries"']
    for i, (panel_title, lines) in enumerate(panels):
        plots = []
        for label, points in lines:
            data = os.path.join(tmp, f"cdf-{i}-{label}.dat")
            with open(data, "w", encoding="utf-8") as f:
                f.writelines(f"{ms:.6g} {q:.6g}\n" for ms, q in points)
            colour = COLOURS.get(label, COLOURS["posfeed"])
            plots.append(f'"{data}" using 1:2 with linespoints lw 2 pt 7 ps 0.4 '
                         f'lc rgb "{colour}" title "{label}"')
        script += [f'set title "{quote(panel_title)}"', "plot " + ", ".join(plots)]
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def quote(text):
    """text inside a gnuplot double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--latency", required=True)
    ap.add_argument("--throughput", required=True)
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    rows = load(args.results)

    panels = cdf_panels(rows)
    # Without a CDF (lines from before latency_cdf_ms): the percentiles as bars.
    latency = []
    for category, by_server in groups(rows, "fanout"):
        for q in ("p50", "p99", "max"):
            latency.append((f"{category} {q}",
                            [median(by_server.get(s, []), "latency_ms", q) for s in SERVERS]))
    throughput = []
    for workload, metric, unit in (("fanout", "deliveries_per_s", "deliveries/s"),
                                   ("retailers", "deliveries_per_s", "deliveries/s"),
                                   ("replay", "events_per_s", "events/s"),
                                   ("write", "commits_per_s", "acked writes/s")):
        for category, by_server in groups(rows, workload):
            throughput.append((f"{category} ({unit})",
                               [median(by_server.get(s, []), metric) for s in SERVERS]))

    charts = [(throughput, args.throughput, "throughput per row", "per second (log scale)")]
    if not panels:
        charts.insert(0, (latency, args.latency, "publish-to-receive latency (p50, p99, max) "
                          "per fan-out row", "ms (log scale)"))
    with tempfile.TemporaryDirectory() as tmp:
        if panels:
            plot_cdf(panels, args.latency, "publish-to-receive latency CDF per fan-out row — "
                     f"{args.title} (medians over the repeats)", tmp)
        for table, out, what, ylabel in charts:
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
