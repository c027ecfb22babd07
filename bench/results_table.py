#!/usr/bin/env python3
"""Turns the posfeed-bench result lines of one bench/compare.sh run into its Markdown report:
one table with posfeed's figure, Nchan's, Pushpin's and posfeed's ratio against each peer per
row (the PostgreSQL rows are posfeed's only), the SPEC 11 / issue 7 targets (fan-out against
the better peer) and those of "Several nodes on PostgreSQL" checked against posfeed's figures,
links to the charts, the machine, and the commands run.

A row run several times (compare.sh --repeat, the line's "repeat") shows the median and, in
brackets, min–max; ratios and targets use medians; a must-be-zero count is the sum over the
repeats.

    results_table.py RESULTS.jsonl --machine ... [--note=TEXT ...] > RESULTS.md
"""

import argparse
import json
import statistics
import sys


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


class Runs(list):
    """The result lines of one row of the table (one per repeat); .get(key) is the first's."""

    def get(self, key, default=None):
        return self[0].get(key, default)


class Stat:
    """One figure over the repeats of a row: median, min, max, sum and how many."""

    def __init__(self, values):
        self.n = len(values)
        self.median = statistics.median(values)
        self.lo, self.hi, self.sum = min(values), max(values), sum(values)


def find(rows, workload, label, **match):
    runs = Runs(r for r in rows if r.get("workload") == workload and r.get("label") == label
                and all(r.get(k) == v for k, v in match.items()))
    return runs or None


def value(r, *path):
    for key in path:
        if not isinstance(r, dict) or key not in r or r[key] is None:
            return None
        r = r[key]
    return r


def stat(runs, *path):
    """The figure at path over every repeat of runs (those that have it), or None."""
    if not runs:
        return None
    values = [v for v in (value(r, *path) for r in runs)
              if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return Stat(values) if values else None


def get(runs, *path):
    """The median of the figure at path over the repeats, or None."""
    s = stat(runs, *path)
    return s.median if s else None


def num(v, digits=0):
    if digits == 0:
        return f"{round(v):,}"
    return f"{v:,.{digits}f}"


def fmt(v, digits=0, total=False):
    if v is None:
        return "—"
    if isinstance(v, Stat):
        if total:
            return num(v.sum, digits)
        text = num(v.median, digits)
        if v.n > 1 and num(v.lo, digits) != num(v.hi, digits):
            text += f" ({num(v.lo, digits)}–{num(v.hi, digits)})"
        return text
    return num(v, digits)


def med(v):
    return v.median if isinstance(v, Stat) else v


def ratio(a, b):
    a, b = med(a), med(b)
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}"


# The labels compare.sh gives the PostgreSQL rows, and how the table names them.
PG_WRITE_ROWS = (
    ("posfeed-pg1", "1 node"),
    ("posfeed-pg3", "3 nodes"),
    ("posfeed-pg3-in_transaction", "3 nodes, NOTIFY in the transaction"),
)
PG_FANOUT_LABEL = "posfeed-pg3"


def is_posfeed(r):
    """posfeed's rows: SQLite ("posfeed") and PostgreSQL ("posfeed-pg…")."""
    return r.get("label") == "posfeed" or str(r.get("label", "")).startswith("posfeed-")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for name in ("machine", "cores", "cpu", "memory", "date", "commit", "nginx", "nchan",
                 "pushpin", "postgres", "nofile", "elapsed", "commands", "server_logs", "raw"):
        ap.add_argument("--" + name.replace("_", "-"), dest=name, default="")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--charts", action="append", default=[])
    ap.add_argument("--note", action="append", default=[])
    args = ap.parse_args()
    rows = load(args.results)

    # (workload, n, metric, posfeed, nchan, pushpin, posfeed/nchan, posfeed/pushpin, better)
    table = []

    def add(workload, n, metric, pf, nx, pp, digits=0, better="", note="", pp_na=False):
        """One row; pf, nx and pp are Stats (or None); a "= 0" row shows sums."""
        total = better == "= 0"
        if total and args.repeat > 1:
            metric += ", all runs"
        table.append((workload, n, metric + (f" ({note})" if note else ""),
                      fmt(pf, digits, total), fmt(nx, digits, total),
                      "n/a" if pp_na else fmt(pp, digits, total),
                      "—" if total else ratio(pf, nx),
                      "—" if total or pp_na else ratio(pf, pp), better))

    def add_posfeed_only(workload, n, metric, pf, digits=0, better=""):
        total = better == "= 0"
        if total and args.repeat > 1:
            metric += ", all runs"
        table.append((workload, n, metric, fmt(pf, digits, total), "n/a", "n/a", "—", "—",
                      better))

    def trio(workload, label_match, *path):
        """posfeed's, Nchan's and Pushpin's Stat of the figure at path in one row."""
        return [stat(find(rows, workload, who, **label_match), *path)
                for who in ("posfeed", "nchan", "pushpin")]

    # The rows posfeed (SQLite) and Nchan share; the PostgreSQL rows have their own section.
    pg_labels = {label for label, _ in PG_WRITE_ROWS} | {PG_FANOUT_LABEL}
    shared = [r for r in rows if r.get("label") not in pg_labels]
    sizes = []
    for r in shared:
        if (r.get("workload") in ("idle", "fanout") and r.get("subscribers") is not None
                and r.get("subscribers") not in sizes):
            sizes.append(r.get("subscribers"))

    for n in sizes:
        m = {"subscribers": n}
        if any(find(rows, "idle", who, **m) for who in ("posfeed", "nchan", "pushpin")):
            add("idle", f"{n:,}", "streams live", *trio("idle", m, "live"), 0, "↑")
            add("idle", f"{n:,}", "server RSS growth per stream, bytes",
                *trio("idle", m, "rss_per_subscriber_bytes"), 0, "↓")
            add("idle", f"{n:,}", "of which private (RssAnon), bytes",
                *trio("idle", m, "anon_per_subscriber_bytes"), 0, "↓")
            add("idle", f"{n:,}", "streams connected per second",
                *trio("idle", m, "connects_per_s"), 0, "↑")
        rates = []
        for r in shared:
            if r.get("workload") == "fanout" and r.get("subscribers") == n and \
                    r.get("rate") not in rates:
                rates.append(r.get("rate"))
        for rate in rates:
            m = {"subscribers": n, "rate": rate}
            r = next(find(rows, "fanout", who, **m) for who in ("posfeed", "nchan", "pushpin")
                     if find(rows, "fanout", who, **m))
            label = f"{n:,} ({fmt(r.get('rate'))}/s × {fmt(r.get('seconds'))} s)"
            add("fanout", label, "streams live", *trio("fanout", m, "live"), 0, "↑")
            add("fanout", label, "deliveries per second",
                *trio("fanout", m, "deliveries_per_s"), 0, "↑")
            for q in ("p50", "p99", "max"):
                add("fanout", label, f"publish-to-receive latency {q}, ms",
                    *trio("fanout", m, "latency_ms", q), 2, "↓")
            add("fanout", label, "events lost", *trio("fanout", m, "lost"), 0, "= 0")
            add("fanout", label, "events duplicated", *trio("fanout", m, "duplicates"), 0,
                "= 0")
            add("fanout", label, "publish errors", *trio("fanout", m, "publish_errors"), 0,
                "= 0")
            add("fanout", label, "streams the server closed", *trio("fanout", m,
                "closed_after_live"), 0, "= 0")
            add("fanout", label, "event data size, bytes", *trio("fanout", m, "data_bytes"), 0,
                "")

    pf = find(rows, "replay", "posfeed")
    nx = find(rows, "replay", "nchan")
    if pf or nx:
        label = f"{fmt(get(pf or nx, 'events'))} events"
        add("replay", label, "events per second to one resuming stream",
            *trio("replay", {}, "events_per_s"), 0, "↑", pp_na=True)
        add("replay", label, "events lost", *trio("replay", {}, "lost"), 0, "= 0", pp_na=True)
        add("replay", label, "events duplicated", *trio("replay", {}, "duplicates"), 0, "= 0",
            pp_na=True)
        add("replay", label, "publishing them (64 connections), per second",
            *trio("replay", {}, "publish_per_s"), 0, "↑", "posfeed durable, Nchan in memory",
            pp_na=True)
    w_any = [find(rows, "write", who) for who in ("posfeed", "nchan", "pushpin")]
    if any(w_any):
        label = f"{fmt(get(next(x for x in w_any if x), 'writers'))} writers"
        add("write", label, "acknowledged writes per second", *trio("write", {}, "commits_per_s"),
            0, "↑", "posfeed durable, the peers in memory")
        for q in ("p50", "p99"):
            add("write", label, f"ack latency {q}, ms", *trio("write", {}, "ack_latency_ms", q),
                2, "↓")
        add("write", label, "errors", *trio("write", {}, "errors"), 0, "= 0")

    # PostgreSQL (several nodes on one database): posfeed only, Nchan has no such mode.
    for pg_label, nodes in PG_WRITE_ROWS:
        pf = find(rows, "write", pg_label)
        if not pf:
            continue
        label = f"{nodes}, {fmt(get(pf, 'writers'))} writers"
        add_posfeed_only("write (PostgreSQL)", label, "acknowledged durable writes per second",
                         stat(pf, "commits_per_s"), 0, "↑")
        for q in ("p50", "p99"):
            add_posfeed_only("write (PostgreSQL)", label, f"ack latency {q}, ms",
                             stat(pf, "ack_latency_ms", q), 2, "↓")
        add_posfeed_only("write (PostgreSQL)", label, "errors", stat(pf, "errors"), 0, "= 0")
    pg_fan = find(rows, "fanout", PG_FANOUT_LABEL)
    if pg_fan:
        label = (f"{fmt(get(pg_fan, 'subscribers'))} over 3 nodes "
                 f"({fmt(get(pg_fan, 'rate'))}/s × {fmt(get(pg_fan, 'seconds'))} s)")
        add_posfeed_only("fanout (PostgreSQL)", label, "cross-node deliveries per second",
                         stat(pg_fan, "deliveries_per_s"), 0, "↑")
        for q in ("p50", "p99", "max"):
            add_posfeed_only("fanout (PostgreSQL)", label,
                             f"cross-node publish-to-receive latency {q}, ms",
                             stat(pg_fan, "latency_ms", q), 2, "↓")
        add_posfeed_only("fanout (PostgreSQL)", label, "events lost", stat(pg_fan, "lost"), 0,
                         "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "events duplicated",
                         stat(pg_fan, "duplicates"), 0, "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "publish errors",
                         stat(pg_fan, "publish_errors"), 0, "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "streams closed by a node",
                         stat(pg_fan, "closed_after_live"), 0, "= 0")

    out = []
    w = out.append
    w(f"# posfeed vs Nchan and Pushpin — {args.date}")
    w("")
    w(f"Commit `{args.commit}`; {args.nginx}, libnginx-mod-nchan {args.nchan}"
      f"{', pushpin ' + args.pushpin if args.pushpin else ''}"
      f"{'; ' + args.postgres if args.postgres else ''}. "
      f"Made by `bench/compare.sh` in {args.elapsed} s; raw result lines: `{args.raw}`.")
    w("")
    w(f"Every row ran {args.repeat} time(s) on fresh servers: a figure is the median"
      + (" with min–max in brackets" if args.repeat > 1 else "")
      + "; posfeed's ratio is given against each peer (of medians), and the targets compare "
        "posfeed with the better of the two peers. Servers on CPU 1, posfeed-bench on CPU 0.")
    if args.charts:
        w("")
        w("Charts: " + ", ".join(f"[{c}]({c})" for c in args.charts) + ".")
    w("")
    w("| workload | N | metric | posfeed | nchan | pushpin | posfeed/nchan | posfeed/pushpin "
      "| better |")
    w("|---|---|---|--:|--:|--:|--:|--:|:-:|")
    for row in table:
        w("| " + " | ".join(row) + " |")
    w("")
    w("↑ higher is better, ↓ lower is better (a ratio above 1 is good for ↑ rows, below 1 for "
      "↓ rows); \"= 0\" must be zero. RSS growth is the server's VmRSS after all streams are "
      "live (plus 2 s) minus before the first connect, divided by the streams; for Nchan it is "
      "summed over the nginx master and workers (shared memory pages a process touched count "
      "in its RSS, so RssAnon is shown too), for Pushpin over its runner, condure, zurl, "
      "pushpin-proxy and pushpin-handler (not its origin, an nginx answering GRIP headers once "
      "per stream). Kernel socket buffers are not included. Nchan's publish is an in-memory "
      "append and Pushpin's a control-API publish acknowledged when its handler took it (no "
      "history: replay is \"n/a\"); posfeed's is a durable SQLite commit (group commit, "
      "acknowledged after fsync). The PostgreSQL rows are posfeed's alone (neither peer has a "
      "several-node mode, hence \"n/a\"): fresh `posfeed serve` nodes on one new database of a "
      "scratch PostgreSQL with `fsync` and `synchronous_commit` on, a write acknowledged after "
      "its COMMIT returned; writers, publish connections and streams are spread round-robin "
      "over the nodes, so about two thirds of the fan-out row's deliveries cross nodes (a "
      "commit through one node, received on another).")
    w("")

    # Targets (issue 7), from posfeed's rows.
    w("## Targets (issue 7)")
    w("")
    checks = []
    idle_pf = [r for r in rows if r.get("workload") == "idle" and r.get("label") == "posfeed"]
    largest_n = max((r.get("subscribers", 0) for r in idle_pf), default=None)
    largest = find(rows, "idle", "posfeed", subscribers=largest_n) if idle_pf else None
    if largest:
        held = min(r.get("live", 0) for r in largest)
        checks.append(("50,000 idle subscribers held",
                       f"{held:,} of {largest.get('subscribers'):,} held "
                       f"(largest N run here)",
                       "PASS" if held >= 50000 else
                       ("not measurable here" if held == largest.get("subscribers") else "FAIL")))
        per = get(largest, "rss_per_subscriber_bytes")
        checks.append(("server memory per idle subscriber ≤ 4 KiB",
                       f"{fmt(per)} bytes RSS at N = {largest.get('subscribers'):,}",
                       "PASS" if per is not None and per <= 4096 else "FAIL"))
    fan = [r for r in shared if r.get("workload") == "fanout" and r.get("subscribers") == 10000]
    rates = sorted({r.get("rate") for r in fan})
    # The lowest rate both keep up with, for latency; the highest (saturating), for capacity.
    def best_peer(rate, path, pick):
        """(name, median) of the better peer for the figure at path: pick is max or min."""
        cands = []
        for who, name in (("nchan", "Nchan"), ("pushpin", "Pushpin")):
            v = get(find(rows, "fanout", who, subscribers=10000, rate=rate), *path)
            if v is not None:
                cands.append((v, name))
        if not cands:
            return None, None
        v, name = pick(cands)
        return name, v

    pf = find(rows, "fanout", "posfeed", subscribers=10000, rate=rates[0]) if rates else None
    spf = find(rows, "fanout", "posfeed", subscribers=10000, rate=rates[-1]) if rates else None
    if spf:
        name, best = best_peer(rates[-1], ("deliveries_per_s",), max)
        if name:
            v = get(spf, "deliveries_per_s") or 0
            checks.append(("fan-out deliveries/s at 10,000 ≥ 1.0 × the faster peer",
                           f"{ratio(v, best)} × {name} ({fmt(v)} vs {fmt(best)}/s at "
                           f"{fmt(rates[-1])} events/s"
                           f"{', saturating' if len(rates) > 1 else ''})",
                           "PASS" if v >= best else "FAIL"))
    if pf:
        name, best = best_peer(rates[0], ("latency_ms", "p99"), min)
        if name:
            v = get(pf, "latency_ms", "p99")
            checks.append(("fan-out p99 latency at 10,000 no worse than the better peer",
                           f"{fmt(v, 2)} ms vs {fmt(best, 2)} ms ({name})",
                           "PASS" if v is not None and v <= best else "FAIL"))
    pf = find(rows, "write", "posfeed")
    if pf:
        v = get(pf, "commits_per_s")
        checks.append(("durable writes ≥ 20,000 commits/s", f"{fmt(v)} commits/s",
                       "PASS" if v is not None and v >= 20000 else "FAIL"))
    pf = find(rows, "replay", "posfeed")
    if pf:
        v = get(pf, "events_per_s")
        checks.append(("replay ≥ 500,000 events/s to one resuming subscriber",
                       f"{fmt(v)} events/s",
                       "PASS" if v is not None and v >= 500000 else "FAIL"))
    bad = []
    for r in rows:
        if not is_posfeed(r):
            continue
        for key in ("lost", "duplicates"):
            if r.get(key) not in (None, 0):
                bad.append(f"{r['label']} {r['workload']} "
                           f"N={r.get('subscribers', r.get('events'))}: {key} {r[key]}")
        if "error" in r:
            bad.append(f"{r['label']} {r['workload']}: {r['error']}")
    checks.append(("zero lost or duplicated events in every posfeed row",
                   "; ".join(bad) if bad else "0 lost, 0 duplicated", "FAIL" if bad else "PASS"))
    w("| target | posfeed | |")
    w("|---|---|---|")
    for c in checks:
        w("| " + " | ".join(c) + " |")
    w("")

    # Targets of "Several nodes on PostgreSQL", from the PostgreSQL rows.
    pg_checks = []
    pf = find(rows, "write", "posfeed-pg3")
    if pf:
        v = get(pf, "commits_per_s")
        text = f"{fmt(v)} writes/s (NOTIFY after commit, the default)"
        intx = find(rows, "write", "posfeed-pg3-in_transaction")
        if intx:
            text += f"; {fmt(get(intx, 'commits_per_s'))} writes/s with the NOTIFY in the " \
                    "transaction"
        one = find(rows, "write", "posfeed-pg1")
        if one:
            text += f"; one node: {fmt(get(one, 'commits_per_s'))} writes/s"
        pg_checks.append(("≥ 10,000 acknowledged writes/s through three nodes", text,
                          "PASS" if v is not None and v >= 10000 and (stat(pf, "errors") is None or stat(pf, "errors").sum == 0)
                          else "FAIL"))
    if pg_fan:
        p99 = get(pg_fan, "latency_ms", "p99")
        pg_checks.append((f"cross-node p99 ≤ 50 ms at {fmt(get(pg_fan, 'rate'))} writes/s",
                          f"{fmt(p99, 2)} ms to {fmt(get(pg_fan, 'live'))} streams on 3 nodes",
                          "PASS" if p99 is not None and p99 <= 50 else "FAIL"))
        # Summed over the repeats: one lost event in any run fails it.
        lost = stat(pg_fan, "lost").sum if stat(pg_fan, "lost") else None
        dup = stat(pg_fan, "duplicates").sum if stat(pg_fan, "duplicates") else None
        pg_checks.append(("zero lost or duplicated across nodes",
                          f"{fmt(lost)} lost, {fmt(dup)} duplicated of "
                          f"{fmt(get(pg_fan, 'expected'))}",
                          "PASS" if lost == 0 and dup == 0 else "FAIL"))
    if pg_checks:
        w("## Targets (several nodes on PostgreSQL)")
        w("")
        w("| target | posfeed | |")
        w("|---|---|---|")
        for c in pg_checks:
            w("| " + " | ".join(c) + " |")
        w("")
    for note in args.note:
        w(f"- {note}")
    if args.note:
        w("")

    w("## Server logs")
    w("")
    w("Warnings and errors the servers logged (posfeed runs at `log_level = \"warn\"`; "
      "nginx's error log at `warn`; Pushpin's processes at `log_level=1`, warnings):")
    w("")
    logged = []
    if args.server_logs:
        with open(args.server_logs, encoding="utf-8") as f:
            logged = [line.rstrip("\n") for line in f if line.strip()]
    for line in logged:
        w(f"- {line}")
    if not logged:
        w("- none")
    w("")
    w("## Machine")
    w("")
    w(f"- `{args.machine}`")
    w(f"- {args.cores} cores: {args.cpu}; memory {args.memory}; hard open-file limit "
      f"{args.nofile}")
    w(f"- started {args.date}")
    w("")
    w("## Commands")
    w("")
    w("Each on a fresh server (posfeed: new data directory, RmSystem 1, an API key with every "
      "scope, `limits.max_connections` the hard open-file limit minus 100, "
      "`limits.streams_per_credential` 100000, "
      "`limits.writes_per_second` and `limits.write_burst` 1000000000, the rest default; "
      "the PostgreSQL rows: a new database on the scratch PostgreSQL, RmSystem 1 and the key "
      "created in it, then each node a fresh `posfeed serve --listen 127.0.0.1:0 --db "
      "postgresql://…` with that same configuration, `?posfeed_notify=in_transaction` "
      "appended to every node's URL in that row; "
      "Nchan: `bench/nchan.conf`, a fresh channel per run; Pushpin: `bench/pushpin/` "
      "(pushpin.conf, routes, and the origin's origin.conf), a fresh channel per run). "
      "Each command is shown once; with repeats it ran that many times.")
    w("")
    w("```")
    if args.commands:
        with open(args.commands, encoding="utf-8") as f:
            out.extend(line.rstrip("\n") for line in f)
    w("```")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
