// The soak's summary (bench/soak.mjs): figures of the run, the check's verdict, the server's
// memory and descriptors with their least-squares slopes after warm-up, and what the server
// logged; printed, and written as Markdown (`<out-base>.md`) beside the samples (`<out-base>.csv`).

import fs from 'node:fs';
import os from 'node:os';

import { slope } from './soak_check.mjs';

const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const mib = (kib) => fmt(kib / 1024, 1);

/** {first, last, max, slopePerHour} of `field` over the samples; the slope over t ≥ `fromS`. */
function trend(samples, field, fromS) {
  const values = samples.map((s) => s[field]).filter((v) => Number.isFinite(v));
  // The slope leaves out the sample taken after the stop (subscribers gone).
  const late = samples.filter((s) => s.phase === 'run' && s.t_s >= fromS && Number.isFinite(s[field]));
  return {
    first: values[0],
    last: values.at(-1),
    max: Math.max(...values),
    slopePerHour: slope(
      late.map((s) => s.t_s),
      late.map((s) => s[field]),
    ) * 3600,
    points: late.length,
  };
}

/** Levels and grouped messages of the server's log (JSON lines; other lines are skipped). */
function serverLog(file) {
  const out = { lines: 0, levels: {}, warnings: new Map(), errors: [], closes: {} };
  if (!file || !fs.existsSync(file)) {
    return out;
  }
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    out.lines += 1;
    out.levels[entry.level] = (out.levels[entry.level] ?? 0) + 1;
    if (entry.reason !== undefined) {
      out.closes[entry.reason] = (out.closes[entry.reason] ?? 0) + 1;
    }
    if (entry.level === 'warning') {
      // Grouped with numbers and RVEs masked and the target dropped.
      const shape = String(entry.message)
        .replace(/^\S+ \/\S+ /, '')
        .replace(/\d+(\.\d+)?/g, 'N');
      out.warnings.set(shape, (out.warnings.get(shape) ?? 0) + 1);
    } else if (entry.level === 'error' || entry.level === 'critical') {
      if (out.errors.length < 20) {
        out.errors.push(line.slice(0, 400));
      }
      out.errorCount = (out.errorCount ?? 0) + 1;
    }
  }
  return out;
}

/** Prints the summary, writes `.md` and `.csv`; returns true when the run passed. */
export function writeReport({ opt, started, runSeconds, samples, totals, writer, chains, check, eventLog, logReadSeconds, m0, m1, problemKinds }) {
  const warm = runSeconds / 2;
  const rss = trend(samples, 'rss_kib', warm);
  const anon = trend(samples, 'rss_anon_kib', warm);
  const fds = trend(samples, 'fds', warm);
  const streams = trend(samples, 'server_streams', warm);
  const driver = trend(samples, 'driver_rss_kib', warm);
  const slog = serverLog(opt['server-log']);
  const delta = (name) => (m1[name] !== undefined && m0[name] !== undefined ? m1[name] - m0[name] : NaN);
  const profiles = {};
  for (const c of chains) {
    profiles[c.profile] = (profiles[c.profile] ?? 0) + 1;
  }

  const checks = [
    ['events lost', check.lost],
    ['events duplicated', check.duplicates],
    ['events out of order', check.outOfOrder],
    ['events confirmed but not in the log span', check.extra],
    ['conflated records lost (last value not the newest)', check.recordsLost],
    ['conflated records not in the log span', check.recordsExtra],
    ['acknowledged writes missing from the log', check.ackedMissing],
    ...['id not above the last', "id not on the group's last event", 'packet with several RVEs', 'record went back', 'reset', 'unwanted type'].map(
      (k) => [`stream protocol: ${k}`, problemKinds[k] ?? 0],
    ),
    ['log read problems', check.logProblems.length],
    ['write errors', writer.errors],
    ['streams that failed to open', totals.openFailures],
    ['streams the server ended unexpectedly', totals.unexpectedEnds],
    ['server cuts not counted as slow-consumer disconnects', Math.max(0, totals.slowCuts + totals.readingCuts - (delta('slow_disconnects') || 0))],
    ["streams closed with reason 'error' (server log)", slog.closes.error ?? 0],
    ['subscribers with any problem', check.failures.length],
    ['server log errors', slog.errorCount ?? 0],
  ];
  const ok = checks.every(([, v]) => v === 0);

  const md = [];
  md.push(`# posfeed soak, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${opt.label ? `, ${opt.label}` : ''}`);
  md.push('');
  md.push(`**${ok ? 'PASS' : 'FAIL'}**: ${check.subscribers} subscribers checked against the event log read from \`rve=0\` (${fmt(eventLog.length)} events); ` +
    `lost ${check.lost}, duplicated ${check.duplicates}, out of order ${check.outOfOrder}. ` +
    `RSS ${mib(rss.first)} → ${mib(rss.last)} MiB (max ${mib(rss.max)}), slope ${fmt(rss.slopePerHour / 1024, 1)} MiB/h after warm-up; ` +
    `descriptors ${fds.first} → ${fds.last} (max ${fds.max}), slope ${fmt(fds.slopePerHour, 1)}/h.`);
  md.push('');
  if (opt['self-test']) {
    md.push(`Self-test run: one subscriber's record was damaged on purpose (\`--self-test ${opt['self-test']}\`), so this run must fail.`, '');
  }
  md.push('## Run');
  md.push('');
  md.push('| | |');
  md.push('|---|---|');
  md.push(`| duration | ${fmt(runSeconds)} s (asked ${fmt(opt.seconds)} s), then the log read (${fmt(logReadSeconds, 1)} s) |`);
  md.push(`| writes | ${fmt(writer.ok)} acknowledged (${fmt(writer.ok / runSeconds, 1)}/s; asked ${opt.rate}/s), ${writer.errors} errors, ${fmt(writer.skipped)} skipped (writer > 1 s behind) |`);
  md.push(`| writes by kind | ${Object.entries(writer.byOp).sort().map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} |`);
  md.push(`| subscribers | ${fmt(totals.chains)} opened (${Object.entries(profiles).sort().map(([k, v]) => `${k} ${v}`).join(', ')}), target ${opt.subscribers} at once; ${fmt(totals.connections)} connections |`);
  md.push(`| resumes | ${fmt(totals.resumes)} (Last-Event-ID ${fmt(totals.resumesByHeader)}, \`rve=\` ${fmt(totals.resumesByQuery)}, both with a stale \`rve=\` ${fmt(totals.resumesByBoth)}) |`);
  const cutAfter = [...totals.slowCutAfterS].sort((a, b) => a - b);
  const cutText = cutAfter.length > 0 ? `, cut ${fmt(cutAfter[cutAfter.length >> 1])} s (median; max ${fmt(cutAfter.at(-1))} s) after the pause began` : '';
  md.push(`| slow readers | ${fmt(totals.slowPauses)} pauses (until cut, at most ${opt['slow-pause-s']} s): ${fmt(totals.slowCuts)} cut by the server${cutText}, ${fmt(totals.slowPausesNotCut)} not cut (paused too briefly or at the stop: ${fmt(totals.slowPauses - totals.slowCuts - totals.slowPausesNotCut)} at the stop); server \`posfeed_slow_consumer_disconnects_total\` +${fmt(delta('slow_disconnects'))} |`);
  md.push(`| cut while reading | ${fmt(totals.readingCuts)} streams that were being read were cut as slow consumers: the driver (one thread for all streams) fell behind for a moment; they resumed like the others |`);
  md.push(`| conflate=1 | ${fmt(totals.conflatePauses)} pauses (until the server's sends stall, + 5 s; at most ${opt['conflate-pause-s']} s), ${fmt(totals.conflateFull)} reached the stall, ${fmt(totals.catchUpCuts)} then closed by the driver 1–3 ids into the catch-up and resumed (share ${opt['catch-up-cuts']}); server \`posfeed_conflations_total\` +${fmt(delta('conflations'))} |`);
  md.push(`| events | ${fmt(check.confirmed)} confirmed by subscribers and checked (exact types; + conflated records), ${fmt(totals.unconfirmedDropped)} unconfirmed at a cut (replayed after it); server delivered +${fmt(delta('delivered'))} packets, published +${fmt(delta('published'))} |`);
  md.push(`| keepalives | ${fmt(totals.keepalives)} |`);
  md.push(`| seed | ${opt.seed} |`);
  md.push('');
  md.push('## Check');
  md.push('');
  md.push('Each subscriber\'s confirmed events (up to its last `id:`) against the log, over the span it');
  md.push('covered (after its start point, up to its last id), across all its connections. conflate=1');
  md.push('subscribers: non-state types exactly; products, customers and levels by the newest value per record.');
  md.push('');
  md.push('| must be 0 | count |');
  md.push('|---|---|');
  for (const [name, v] of checks) {
    md.push(`| ${name} | ${v} |`);
  }
  md.push(`| (checked: ${fmt(check.expected)} expected events, ${fmt(check.confirmed)} confirmed, ${fmt(check.records)} conflated records) | |`);
  md.push('');
  md.push('## Server resources');
  md.push('');
  md.push(`Sampled every ${opt['sample-s']} s (${samples.length} samples); slope: least squares over the second half (t ≥ ${fmt(warm)} s, ${rss.points} samples).`);
  md.push('');
  md.push('| | first | last | max | slope |');
  md.push('|---|---|---|---|---|');
  md.push(`| VmRSS (MiB) | ${mib(rss.first)} | ${mib(rss.last)} | ${mib(rss.max)} | ${fmt(rss.slopePerHour / 1024, 1)} MiB/h |`);
  md.push(`| RssAnon (MiB) | ${mib(anon.first)} | ${mib(anon.last)} | ${mib(anon.max)} | ${fmt(anon.slopePerHour / 1024, 1)} MiB/h |`);
  md.push(`| open descriptors | ${fds.first} | ${fds.last} | ${fds.max} | ${fmt(fds.slopePerHour, 1)}/h |`);
  md.push(`| streams (\`posfeed_streams\`) | ${streams.first} | ${streams.last} | ${streams.max} | ${fmt(streams.slopePerHour, 1)}/h |`);
  md.push(`| driver RSS (MiB, for reference) | ${mib(driver.first)} | ${mib(driver.last)} | ${mib(driver.max)} | ${fmt(driver.slopePerHour / 1024, 1)} MiB/h |`);
  md.push('');
  md.push('## Server log');
  md.push('');
  md.push(`${fmt(slog.lines)} lines: ${Object.entries(slog.levels).sort().map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}. ` +
    `Streams closed, by reason: ${Object.entries(slog.closes).sort().map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}.`);
  if (slog.warnings.size > 0) {
    md.push('');
    md.push('| warning | count |');
    md.push('|---|---|');
    for (const [w, n] of [...slog.warnings].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
      md.push(`| ${w.replace(/\|/g, '\\|')} | ${fmt(n)} |`);
    }
  }
  for (const e of slog.errors) {
    md.push('', '```', e, '```');
  }
  if (check.failures.length > 0 || writer.errorSamples.length > 0 || check.logProblems.length > 0) {
    md.push('');
    md.push('## Failures');
    md.push('');
    for (const f of [...check.failures.slice(0, 20), ...writer.errorSamples, ...check.logProblems.slice(0, 10)]) {
      md.push(`- ${f.length > 900 ? `${f.slice(0, 900)} …` : f}`);
    }
    if (check.failures.length > 20) {
      md.push(`- … and ${check.failures.length - 20} more subscribers`);
    }
  }
  md.push('');
  md.push('## Setup');
  md.push('');
  md.push(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, Linux ${os.release()}, Node ${process.version}. ` +
    `Driver: ${opt.rate} writes/s over at most ${opt.writers} connections, descriptions padded by ${opt.pad} characters; ` +
    `${opt.subscribers} subscribers at once. Server configuration:`);
  if (opt.config && fs.existsSync(opt.config)) {
    md.push('', '```toml', fs.readFileSync(opt.config, 'utf8').trim(), '```');
  }
  const text = `${md.join('\n')}\n`;

  const keys = Object.keys(samples[0] ?? {});
  const csv = [keys.join(','), ...samples.map((s) => keys.map((k) => s[k]).join(','))].join('\n');
  fs.writeFileSync(`${opt['out-base']}.md`, text);
  fs.writeFileSync(`${opt['out-base']}.csv`, `${csv}\n`);
  process.stdout.write(text);
  console.error(`soak: wrote ${opt['out-base']}.md and .csv`);
  return ok;
}
