#!/usr/bin/env python3
"""Turns the posfeed-bench result lines of one bench/compare.sh run into its Markdown report:
one table with posfeed's figure, Nchan's and their ratio per row (the PostgreSQL rows are
posfeed's only), the SPEC 11 / issue 7 targets and those of "Several nodes on PostgreSQL"
checked against posfeed's figures, the machine, and the commands run.

    results_table.py RESULTS.jsonl --machine ... [--note=TEXT ...] > RESULTS.md
"""

import argparse
import json
import sys


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def find(rows, workload, label, **match):
    for r in rows:
        if r.get("workload") == workload and r.get("label") == label and all(
            r.get(k) == v for k, v in match.items()
        ):
            return r
    return None


def get(r, *path):
    for key in path:
        if not isinstance(r, dict) or key not in r or r[key] is None:
            return None
        r = r[key]
    return r


def fmt(v, digits=0):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if digits == 0:
        return f"{round(v):,}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
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
                 "postgres", "nofile", "elapsed", "commands", "server_logs", "raw"):
        ap.add_argument("--" + name.replace("_", "-"), dest=name, default="")
    ap.add_argument("--note", action="append", default=[])
    args = ap.parse_args()
    rows = load(args.results)

    table = []  # (workload, n, metric, posfeed, nchan, ratio, better)

    def add(workload, n, metric, pf, nx, digits=0, better="", note=""):
        table.append((workload, n, metric + (f" ({note})" if note else ""), fmt(pf, digits),
                      fmt(nx, digits), ratio(pf, nx), better))

    def add_posfeed_only(workload, n, metric, pf, digits=0, better=""):
        table.append((workload, n, metric, fmt(pf, digits), "n/a", "—", better))

    # The rows posfeed (SQLite) and Nchan share; the PostgreSQL rows have their own section.
    pg_labels = {label for label, _ in PG_WRITE_ROWS} | {PG_FANOUT_LABEL}
    shared = [r for r in rows if r.get("label") not in pg_labels]
    sizes = []
    for r in shared:
        if (r.get("workload") in ("idle", "fanout") and r.get("subscribers") is not None
                and r.get("subscribers") not in sizes):
            sizes.append(r.get("subscribers"))

    for n in sizes:
        pf = find(rows, "idle", "posfeed", subscribers=n)
        nx = find(rows, "idle", "nchan", subscribers=n)
        if pf or nx:
            add("idle", f"{n:,}", "streams live", get(pf, "live"), get(nx, "live"), 0, "↑")
            add("idle", f"{n:,}", "server RSS growth per stream, bytes",
                get(pf, "rss_per_subscriber_bytes"), get(nx, "rss_per_subscriber_bytes"), 0, "↓")
            add("idle", f"{n:,}", "of which private (RssAnon), bytes",
                get(pf, "anon_per_subscriber_bytes"), get(nx, "anon_per_subscriber_bytes"), 0,
                "↓")
            add("idle", f"{n:,}", "streams connected per second", get(pf, "connects_per_s"),
                get(nx, "connects_per_s"), 0, "↑")
        rates = []
        for r in shared:
            if r.get("workload") == "fanout" and r.get("subscribers") == n and \
                    r.get("rate") not in rates:
                rates.append(r.get("rate"))
        for rate in rates:
            pf = find(rows, "fanout", "posfeed", subscribers=n, rate=rate)
            nx = find(rows, "fanout", "nchan", subscribers=n, rate=rate)
            r = pf or nx
            label = f"{n:,} ({fmt(r.get('rate'))}/s × {fmt(r.get('seconds'))} s)"
            add("fanout", label, "deliveries per second", get(pf, "deliveries_per_s"),
                get(nx, "deliveries_per_s"), 0, "↑")
            for q in ("p50", "p99", "max"):
                add("fanout", label, f"publish-to-receive latency {q}, ms",
                    get(pf, "latency_ms", q), get(nx, "latency_ms", q), 2, "↓")
            add("fanout", label, "events lost", get(pf, "lost"), get(nx, "lost"), 0, "= 0")
            add("fanout", label, "events duplicated", get(pf, "duplicates"),
                get(nx, "duplicates"), 0, "= 0")
            add("fanout", label, "publish errors", get(pf, "publish_errors"),
                get(nx, "publish_errors"), 0, "= 0")
            add("fanout", label, "event data size, bytes", get(pf, "data_bytes"),
                get(nx, "data_bytes"), 0, "")

    pf = find(rows, "replay", "posfeed")
    nx = find(rows, "replay", "nchan")
    if pf or nx:
        label = f"{fmt(get(pf or nx, 'events'))} events"
        add("replay", label, "events per second to one resuming stream",
            get(pf, "events_per_s"), get(nx, "events_per_s"), 0, "↑")
        add("replay", label, "events lost", get(pf, "lost"), get(nx, "lost"), 0, "= 0")
        add("replay", label, "events duplicated", get(pf, "duplicates"), get(nx, "duplicates"),
            0, "= 0")
        add("replay", label, "publishing them (64 connections), per second",
            get(pf, "publish_per_s"), get(nx, "publish_per_s"), 0, "↑",
            "posfeed durable, Nchan in memory")
    pf = find(rows, "write", "posfeed")
    nx = find(rows, "write", "nchan")
    if pf or nx:
        label = f"{fmt(get(pf or nx, 'writers'))} writers"
        add("write", label, "acknowledged writes per second", get(pf, "commits_per_s"),
            get(nx, "commits_per_s"), 0, "↑", "posfeed durable, Nchan in memory")
        for q in ("p50", "p99"):
            add("write", label, f"ack latency {q}, ms", get(pf, "ack_latency_ms", q),
                get(nx, "ack_latency_ms", q), 2, "↓")
        add("write", label, "errors", get(pf, "errors"), get(nx, "errors"), 0, "= 0")

    # PostgreSQL (several nodes on one database): posfeed only, Nchan has no such mode.
    for pg_label, nodes in PG_WRITE_ROWS:
        pf = find(rows, "write", pg_label)
        if not pf:
            continue
        label = f"{nodes}, {fmt(get(pf, 'writers'))} writers"
        add_posfeed_only("write (PostgreSQL)", label, "acknowledged durable writes per second",
                         get(pf, "commits_per_s"), 0, "↑")
        for q in ("p50", "p99"):
            add_posfeed_only("write (PostgreSQL)", label, f"ack latency {q}, ms",
                             get(pf, "ack_latency_ms", q), 2, "↓")
        add_posfeed_only("write (PostgreSQL)", label, "errors", get(pf, "errors"), 0, "= 0")
    pg_fan = find(rows, "fanout", PG_FANOUT_LABEL)
    if pg_fan:
        label = (f"{fmt(get(pg_fan, 'subscribers'))} over 3 nodes "
                 f"({fmt(get(pg_fan, 'rate'))}/s × {fmt(get(pg_fan, 'seconds'))} s)")
        add_posfeed_only("fanout (PostgreSQL)", label, "cross-node deliveries per second",
                         get(pg_fan, "deliveries_per_s"), 0, "↑")
        for q in ("p50", "p99", "max"):
            add_posfeed_only("fanout (PostgreSQL)", label,
                             f"cross-node publish-to-receive latency {q}, ms",
                             get(pg_fan, "latency_ms", q), 2, "↓")
        add_posfeed_only("fanout (PostgreSQL)", label, "events lost", get(pg_fan, "lost"), 0,
                         "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "events duplicated",
                         get(pg_fan, "duplicates"), 0, "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "publish errors",
                         get(pg_fan, "publish_errors"), 0, "= 0")
        add_posfeed_only("fanout (PostgreSQL)", label, "streams closed by a node",
                         get(pg_fan, "closed_after_live"), 0, "= 0")

    out = []
    w = out.append
    w(f"# posfeed vs Nchan — {args.date}")
    w("")
    w(f"Commit `{args.commit}`; {args.nginx}, libnginx-mod-nchan {args.nchan}"
      f"{'; ' + args.postgres if args.postgres else ''}. "
      f"Made by `bench/compare.sh` in {args.elapsed} s; raw result lines: `{args.raw}`.")
    w("")
    w("| workload | N | metric | posfeed | nchan | ratio posfeed/nchan | better |")
    w("|---|---|---|--:|--:|--:|:-:|")
    for row in table:
        w("| " + " | ".join(row) + " |")
    w("")
    w("↑ higher is better, ↓ lower is better (a ratio above 1 is good for ↑ rows, below 1 for "
      "↓ rows); \"= 0\" must be zero. RSS growth is the server's VmRSS after all streams are "
      "live (plus 2 s) minus before the first connect, divided by the streams; for Nchan it is "
      "summed over the nginx master and workers (shared memory pages a process touched count "
      "in its RSS, so RssAnon is shown too). Kernel socket buffers are not included. Nchan's "
      "publish is an in-memory append; posfeed's is a durable SQLite commit (group commit, "
      "acknowledged after fsync). The PostgreSQL rows are posfeed's alone (Nchan has no "
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
    largest = max(idle_pf, key=lambda r: r.get("subscribers", 0), default=None)
    if largest:
        held = largest.get("live", 0)
        checks.append(("50,000 idle subscribers held",
                       f"{held:,} of {largest.get('subscribers'):,} held "
                       f"(largest N run here)",
                       "PASS" if held >= 50000 else
                       ("not measurable here" if held == largest.get("subscribers") else "FAIL")))
        per = largest.get("rss_per_subscriber_bytes")
        checks.append(("server memory per idle subscriber ≤ 4 KiB",
                       f"{fmt(per)} bytes RSS at N = {largest.get('subscribers'):,}",
                       "PASS" if per is not None and per <= 4096 else "FAIL"))
    fan = [r for r in shared if r.get("workload") == "fanout" and r.get("subscribers") == 10000]
    rates = sorted({r.get("rate") for r in fan})
    # The lowest rate both keep up with, for latency; the highest (saturating), for capacity.
    pf = find(rows, "fanout", "posfeed", subscribers=10000, rate=rates[0]) if rates else None
    nx = find(rows, "fanout", "nchan", subscribers=10000, rate=rates[0]) if rates else None
    spf = find(rows, "fanout", "posfeed", subscribers=10000, rate=rates[-1]) if rates else None
    snx = find(rows, "fanout", "nchan", subscribers=10000, rate=rates[-1]) if rates else None
    if spf and snx:
        d_ok = (get(spf, "deliveries_per_s") or 0) >= (get(snx, "deliveries_per_s") or 0)
        checks.append(("fan-out deliveries/s at 10,000 ≥ 1.0 × Nchan",
                       f"{ratio(get(spf, 'deliveries_per_s'), get(snx, 'deliveries_per_s'))} × "
                       f"({fmt(get(spf, 'deliveries_per_s'))} vs "
                       f"{fmt(get(snx, 'deliveries_per_s'))}/s at {fmt(rates[-1])} events/s"
                       f"{', saturating' if len(rates) > 1 else ''})",
                       "PASS" if d_ok else "FAIL"))
    if pf and nx:
        l_ok = (get(pf, "latency_ms", "p99") or 1e18) <= (get(nx, "latency_ms", "p99") or 0)
        checks.append(("fan-out p99 latency at 10,000 no worse than Nchan",
                       f"{fmt(get(pf, 'latency_ms', 'p99'), 2)} ms vs "
                       f"{fmt(get(nx, 'latency_ms', 'p99'), 2)} ms",
                       "PASS" if l_ok else "FAIL"))
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
                          "PASS" if v is not None and v >= 10000 and not get(pf, "errors")
                          else "FAIL"))
    if pg_fan:
        p99 = get(pg_fan, "latency_ms", "p99")
        pg_checks.append((f"cross-node p99 ≤ 50 ms at {fmt(get(pg_fan, 'rate'))} writes/s",
                          f"{fmt(p99, 2)} ms to {fmt(get(pg_fan, 'live'))} streams on 3 nodes",
                          "PASS" if p99 is not None and p99 <= 50 else "FAIL"))
        lost, dup = get(pg_fan, "lost"), get(pg_fan, "duplicates")
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
      "nginx's error log at `warn`):")
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
      "Nchan: `bench/nchan.conf`, a fresh channel per run).")
    w("")
    w("```")
    if args.commands:
        with open(args.commands, encoding="utf-8") as f:
            out.extend(line.rstrip("\n") for line in f)
    w("```")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
