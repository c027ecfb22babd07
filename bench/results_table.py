#!/usr/bin/env python3
"""Turns the posfeed-bench result lines of one bench/compare.sh run into its Markdown report:
one table with posfeed's figure, Nchan's, Pushpin's and posfeed's ratio against each peer per
row (the PostgreSQL rows are posfeed's only; a fan-out line with "groups" > 1 is a "retailers"
row, streams over many RmSystems or channels), the SPEC 11 / issue 7 targets (fan-out against
the better peer), the issue 15 targets (posfeed against the peers, "not measured" without the
rows) and those of "Several nodes on PostgreSQL" checked against posfeed's figures, links to
the charts, the machine, and the commands run.

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
                rows.append(as_retailers(json.loads(line)))
    return rows


def as_retailers(r):
    """A many-retailers fan-out line (its streams over "groups" > 1 RmSystems or channels)
    becomes workload "retailers", so it never mixes with the ordinary fan-out rows; so does a
    failed one, which compare.sh labels "retail:SERVER" (then labelled SERVER)."""
    label = str(r.get("label", ""))
    groups = r.get("groups")
    if label.startswith("retail:"):
        r["label"] = label[len("retail:"):]
        r["workload"] = "retailers"
    elif r.get("workload") == "fanout" and isinstance(groups, (int, float)) and groups > 1:
        r["workload"] = "retailers"
    return r


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


NOT_MEASURED = "not measured"
PEERS = (("nchan", "Nchan"), ("pushpin", "Pushpin"))


def verdict(*oks):
    """FAIL when a part of a target fails, "not measured" when one has no figure, else PASS."""
    if any(ok is False for ok in oks):
        return "FAIL"
    if any(ok is None for ok in oks):
        return NOT_MEASURED
    return "PASS"


def holds(v, op, bound):
    """v op bound (op "<=", ">=" or ">"), or None without both figures."""
    if v is None or bound is None:
        return None
    return {"<=": v <= bound, ">=": v >= bound, ">": v > bound}[op]


def peer_figures(rows, workload, match, *path):
    """[(name, median)] of the peers with the figure at path in that row."""
    out = []
    for who, name in PEERS:
        v = get(find(rows, workload, who, **match), *path)
        if v is not None:
            out.append((name, v))
    return out


def better_peer(rows, workload, match, path, pick):
    """(name, median) of the better peer for the figure at path (pick: max or min), or
    (None, None) when neither peer has it."""
    cands = peer_figures(rows, workload, match, *path)
    if not cands:
        return None, None
    name, v = pick(cands, key=lambda c: c[1])
    return name, v


def times(v, peer_v, name, digits=0, unit=""):
    """posfeed's figure against a peer's: "1.23 × Nchan (a vs b unit)"."""
    return f"{ratio(v, peer_v)} × {name} ({fmt(v, digits)} vs {fmt(peer_v, digits)}{unit})"


def issue15_checks(rows):
    """The rows of "Targets (issue 15)": (target, posfeed vs the peers, verdict)."""
    checks = []

    def row(target, text, *oks):
        checks.append((target, text if text else "—", verdict(*oks)))

    target = "durable writes ≥ 0.5 × Nchan's publish rate"
    v = get(find(rows, "write", "posfeed"), "commits_per_s")
    nx = get(find(rows, "write", "nchan"), "commits_per_s")
    row(target, times(v, nx, "Nchan", 0, " writes/s") if v is not None and nx is not None
        else "", holds(v, ">=", None if nx is None else 0.5 * nx))

    target = "write ack p99 no worse than Nchan's"
    v = get(find(rows, "write", "posfeed"), "ack_latency_ms", "p99")
    nx = get(find(rows, "write", "nchan"), "ack_latency_ms", "p99")
    row(target, f"{fmt(v, 2)} ms vs {fmt(nx, 2)} ms (Nchan)"
        if v is not None and nx is not None else "", holds(v, "<=", nx))

    target = "streams opened per second ≥ 1.0 × the faster peer"
    sizes = sorted({r.get("subscribers") for r in rows if r.get("workload") == "idle"
                    and r.get("label") == "posfeed" and r.get("subscribers") is not None})
    n = 10000 if 10000 in sizes else (sizes[-1] if sizes else None)
    v = get(find(rows, "idle", "posfeed", subscribers=n), "connects_per_s")
    name, best = better_peer(rows, "idle", {"subscribers": n}, ("connects_per_s",), max)
    row(target, times(v, best, name, 0, f" streams/s at N = {fmt(n)}")
        if v is not None and name else "", holds(v, ">=", best))

    target = "saturating fan-out at 10,000 ≥ 2.5 × Nchan and ahead of Pushpin"
    rates = sorted({r.get("rate") for r in rows if r.get("workload") == "fanout"
                    and r.get("subscribers") == 10000 and r.get("rate") is not None})
    m = {"subscribers": 10000, "rate": rates[-1]} if rates else None
    v = get(find(rows, "fanout", "posfeed", **m), "deliveries_per_s") if m else None
    nx = get(find(rows, "fanout", "nchan", **m), "deliveries_per_s") if m else None
    pp = get(find(rows, "fanout", "pushpin", **m), "deliveries_per_s") if m else None
    text = ""
    if v is not None and (nx is not None or pp is not None):
        parts = [times(v, peer_v, name, 0, " deliveries/s") if peer_v is not None
                 else f"{name} {NOT_MEASURED}" for name, peer_v in (("Nchan", nx),
                                                                     ("Pushpin", pp))]
        text = f"at {fmt(rates[-1])} events/s: " + "; ".join(parts)
    row(target, text, holds(v, ">=", None if nx is None else 2.5 * nx), holds(v, ">", pp))

    target = "p99 at 10,000 streams × 10 events/s ≤ 0.5 × the better peer's"
    m = {"subscribers": 10000, "rate": 10}
    v = get(find(rows, "fanout", "posfeed", **m), "latency_ms", "p99")
    name, best = better_peer(rows, "fanout", m, ("latency_ms", "p99"), min)
    row(target, times(v, best, name, 2, " ms") if v is not None and name else "",
        holds(v, "<=", None if best is None else 0.5 * best))

    target = "idle memory ≤ 2 KiB per stream at 19,000 streams"
    big = [n for n in sizes if n >= 19000]
    v = get(find(rows, "idle", "posfeed", subscribers=big[-1]), "rss_per_subscriber_bytes") \
        if big else None
    text = ""
    if v is not None:
        others = peer_figures(rows, "idle", {"subscribers": big[-1]}, "rss_per_subscriber_bytes")
        text = f"{fmt(v)} bytes RSS per stream at N = {fmt(big[-1])}" + "".join(
            f"; {name} {fmt(peer_v)} bytes" for name, peer_v in others)
    row(target, text, holds(v, "<=", 2048))

    target = "many retailers: deliveries/s ≥ 1.0 × the better peer, p99 no worse"
    m = {"groups": 1000}
    v = get(find(rows, "retailers", "posfeed", **m), "deliveries_per_s")
    name, best = better_peer(rows, "retailers", m, ("deliveries_per_s",), max)
    p99 = get(find(rows, "retailers", "posfeed", **m), "latency_ms", "p99")
    p_name, p_best = better_peer(rows, "retailers", m, ("latency_ms", "p99"), min)
    text = ""
    if v is not None and name:
        n = get(find(rows, "retailers", "posfeed", **m), "subscribers")
        text = (f"{times(v, best, name, 0, ' deliveries/s')}; p99 {fmt(p99, 2)} ms vs "
                f"{fmt(p_best, 2)} ms ({p_name}), {fmt(n)} streams in 1,000 groups")
    row(target, text, holds(v, ">=", best), holds(p99, "<=", p_best))

    target = "a publish costs in proportion to its RmSystem's subscribers, not the node's"
    big_cpu = get(find(rows, "retailers", "posfeed", subscribers=10000, groups=1000),
                  "server_cpu_us_per_publish")
    small_cpu = get(find(rows, "retailers", "posfeed", subscribers=1000, groups=100),
                    "server_cpu_us_per_publish")
    text, ok = "", None
    if big_cpu is not None and small_cpu is not None:
        text = (f"{fmt(big_cpu, 1)} µs CPU per publish at 10,000 streams / 1,000 groups vs "
                f"{fmt(small_cpu, 1)} µs at 1,000 / 100: {ratio(big_cpu, small_cpu)} ×")
        ok = max(big_cpu, small_cpu) <= 2 * min(big_cpu, small_cpu)
    row(target, text, ok)

    target = "zero lost, duplicated or misrouted events in every posfeed row"
    mine = [r for r in rows if is_posfeed(r)]
    bad = []
    for r in mine:
        for key in ("lost", "duplicates", "misrouted"):
            if r.get(key) not in (None, 0):
                where = f"N={r.get('subscribers', r.get('events'))}"
                if r.get("workload") == "retailers":
                    where += f" in {r.get('groups')} groups"
                bad.append(f"{r['label']} {r['workload']} {where}: {key} {r[key]}")
        if "error" in r:
            bad.append(f"{r['label']} {r['workload']}: {r['error']}")
    text = "; ".join(bad) if bad else ("0 lost, 0 duplicated, 0 misrouted" if mine else "")
    row(target, text, (not bad) if mine else None)
    return checks


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

    def deliveries(workload, label, m, misrouted=False):
        """The rows of a fan-out block: streams, deliveries, latency, the must-be-zero counts
        (with misrouted events for the many-retailers rows) and CPU per publish (when a line
        has it: older results do not)."""
        add(workload, label, "streams live", *trio(workload, m, "live"), 0, "↑")
        add(workload, label, "deliveries per second",
            *trio(workload, m, "deliveries_per_s"), 0, "↑")
        for q in ("p50", "p99", "max"):
            add(workload, label, f"publish-to-receive latency {q}, ms",
                *trio(workload, m, "latency_ms", q), 2, "↓")
        add(workload, label, "events lost", *trio(workload, m, "lost"), 0, "= 0")
        add(workload, label, "events duplicated", *trio(workload, m, "duplicates"), 0, "= 0")
        if misrouted:
            add(workload, label, "events delivered to another group's streams (misrouted)",
                *trio(workload, m, "misrouted"), 0, "= 0")
        add(workload, label, "publish errors", *trio(workload, m, "publish_errors"), 0, "= 0")
        add(workload, label, "streams the server closed",
            *trio(workload, m, "closed_after_live"), 0, "= 0")
        cpu = trio(workload, m, "server_cpu_us_per_publish")
        if any(cpu):
            add(workload, label, "server CPU per publish, µs", *cpu, 1, "↓")

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
            deliveries("fanout", label, m)
            add("fanout", label, "event data size, bytes", *trio("fanout", m, "data_bytes"), 0,
                "")

    # Many retailers: the streams over G groups (RmSystems, channels), a block per size.
    blocks = []
    for r in rows:
        key = (r.get("subscribers"), r.get("groups"), r.get("rate"))
        if r.get("workload") == "retailers" and None not in key and key not in blocks:
            blocks.append(key)
    for n, groups, rate in blocks:
        m = {"subscribers": n, "groups": groups, "rate": rate}
        r = next(find(rows, "retailers", who, **m) for who in ("posfeed", "nchan", "pushpin")
                 if find(rows, "retailers", who, **m))
        label = f"{fmt(n)} in {fmt(groups)} groups ({fmt(rate)}/s × {fmt(r.get('seconds'))} s)"
        deliveries("retailers", label, m, misrouted=True)

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
      "commit through one node, received on another). The retailers rows spread the streams "
      "over G groups, 10 streams to each, every publish to one pseudo-random group (posfeed: "
      "one RmSystem and one API key per group; Nchan and Pushpin: one channel per group); "
      "\"misrouted\" counts events a stream received that were published to another group "
      "(for posfeed a breach of tenant isolation). Server CPU per publish is the server "
      "processes' user + system CPU from the first publish to the end of delivery, over the "
      "acknowledged publishes.")
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

    # Targets (issue 15): posfeed against the peers, from the same rows.
    w("## Targets (issue 15)")
    w("")
    w("| target | posfeed vs the peers | |")
    w("|---|---|---|")
    for c in issue15_checks(rows):
        w("| " + " | ".join(c) + " |")
    w("")
    w("The two retailers rows put 10 streams in each group and publish to one group at a time, "
      "the larger with 10× the streams on the node: a publish whose cost grew with the node's "
      "streams rather than its RmSystem's would cost ~10× as much CPU there, not ≤ 2×.")
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
