// The operator's status page (GET /report/status): reads /metrics (same origin) once a second
// and draws live charts of open streams, events published and delivered per second,
// slow-consumer disconnects and the commit latency p99. Plain ES module, no library, no build
// step; the page holds no data of its own.
//
// Access (docs/operations.md, "Health and metrics"): with metrics.token unset the server
// answers /metrics to loopback peers only (403 to the rest); with it set, every request needs
// `Authorization: Bearer <token>` (401 otherwise). The token is pasted into the form or given in
// the address as #token=... (a fragment never reaches the server or its logs); it is kept in
// this tab's sessionStorage only, and removed from the address bar at once.
//
// For tests, each chart's latest figure is in `[data-chart=NAME] .value` as `data-value` (a
// number, or "" while there is none) and the page's state in `#message[data-state]`: loading,
// ok, unauthorized (401), forbidden (403), error.

const $ = (id) => document.getElementById(id);

const SCRAPE_MS = 1000;
const HISTORY_S = 120; // the charts show the last two minutes
const P99_WINDOW_S = 10; // the commit-latency p99 is over the last 10 s
const TOKEN_KEY = 'posfeed.metrics.token';

// --- Prometheus text format --------------------------------------------------------------

/** A sample value: a number, or +Inf/-Inf/NaN as the text format writes them. */
function sampleValue(text) {
  if (text === '+Inf' || text === 'Inf') {
    return Infinity;
  }
  if (text === '-Inf') {
    return -Infinity;
  }
  return Number(text);
}

/** Parses a text exposition into Map(name -> [{labels, value}]). */
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) {
      continue;
    }
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    if (!out.has(m[1])) {
      out.set(m[1], []);
    }
    out.get(m[1]).push({ labels, value: sampleValue(m[3]) });
  }
  return out;
}

/** The sum of every sample of `name` (over its labels), or null when it is absent. */
function total(metrics, name) {
  const samples = metrics.get(name);
  return samples ? samples.reduce((s, x) => s + x.value, 0) : null;
}

/** Cumulative buckets of histogram `name`: [{le, count}] sorted by le (+Inf last). */
function buckets(metrics, name) {
  return (metrics.get(`${name}_bucket`) ?? [])
    .map((s) => ({ le: sampleValue(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile of the observations made between two readings of a histogram, interpolated
 * linearly inside the bucket it falls in (as Prometheus' histogram_quantile); null when there
 * were none. Above the highest finite bound it is that bound.
 */
export function quantileBetween(q, older, newer) {
  if (!older || newer.length === 0 || older.length !== newer.length) {
    return null;
  }
  const delta = newer.map((b, i) => ({ le: b.le, count: b.count - older[i].count }));
  const n = delta.at(-1).count;
  if (!(n > 0) || delta.some((b) => b.count < 0)) {
    return null; // nothing observed, or the server restarted in between
  }
  const rank = q * n;
  let lower = 0;
  let below = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (b.le === Infinity) {
        return lower;
      }
      const inBucket = b.count - below;
      return inBucket > 0 ? lower + ((b.le - lower) * (rank - below)) / inBucket : b.le;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

// --- the figures -------------------------------------------------------------------------

/** A per-second rate of a counter between two readings; null across a restart. */
function rate(name, per = 1) {
  return (prev, cur) => {
    const a = prev && total(prev.metrics, name);
    const b = total(cur.metrics, name);
    if (a === null || a === undefined || b === null || b < a || cur.at <= prev.at) {
      return null;
    }
    return ((b - a) / ((cur.at - prev.at) / 1000)) * per;
  };
}

const FIGURES = {
  streams: { value: (_, cur) => total(cur.metrics, 'posfeed_streams'), digits: 0 },
  published: { value: rate('posfeed_events_published_total'), digits: 1 },
  delivered: { value: rate('posfeed_events_delivered_total'), digits: 1 },
  slow: { value: rate('posfeed_slow_consumer_disconnects_total', 60), digits: 1 },
  commit: {
    value: (_, cur, windowStart) => {
      const q = quantileBetween(
        0.99,
        windowStart && buckets(windowStart.metrics, 'posfeed_commit_latency_seconds'),
        buckets(cur.metrics, 'posfeed_commit_latency_seconds'),
      );
      return q === null ? null : q * 1000;
    },
    digits: 2,
  },
};

// --- charts ------------------------------------------------------------------------------

/** A y-axis top that is a round number at or above `v`. */
function niceCeiling(v) {
  if (!(v > 0)) {
    return 1;
  }
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= v) {
      return m * p;
    }
  }
  return 10 * p;
}

function formatNumber(v, digits) {
  if (v === null) {
    return '—';
  }
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Draws `points` ([{at, v}], v null for a gap) on `canvas`: the last HISTORY_S seconds. */
function draw(canvas, points, now, digits) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, w, h);
  const pad = { left: 48 * dpr, right: 6 * dpr, top: 8 * dpr, bottom: 14 * dpr };
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  const top = niceCeiling(Math.max(0, ...points.map((p) => p.v ?? 0)) * 1.1);
  const x = (at) => pad.left + plotW * (1 - (now - at) / (HISTORY_S * 1000));
  const y = (v) => pad.top + plotH * (1 - v / top);

  ctx.font = `${10 * dpr}px ui-monospace, monospace`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i += 1) {
    const v = (top * i) / 4;
    ctx.strokeStyle = i === 0 ? '#999' : '#e4e4e4';
    ctx.lineWidth = dpr;
    ctx.beginPath();
    ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
    ctx.lineTo(w - pad.right, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = '#555';
    ctx.fillText(formatNumber(v, digits + 1), pad.left - 4 * dpr, y(v));
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(`−${HISTORY_S} s`, pad.left, h - 2 * dpr);
  ctx.textAlign = 'right';
  ctx.fillText('now', w - pad.right, h - 2 * dpr);

  // The line, broken where there is no value; the area under it lightly filled.
  let run = [];
  const flush = () => {
    if (run.length === 0) {
      return;
    }
    ctx.beginPath();
    ctx.moveTo(x(run[0].at), y(0));
    for (const p of run) {
      ctx.lineTo(x(p.at), y(p.v));
    }
    ctx.lineTo(x(run.at(-1).at), y(0));
    ctx.closePath();
    ctx.fillStyle = 'rgba(25, 118, 210, 0.15)';
    ctx.fill();
    ctx.beginPath();
    run.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.at), y(p.v)) : ctx.lineTo(x(p.at), y(p.v))));
    if (run.length === 1) {
      ctx.arc(x(run[0].at), y(run[0].v), 1.5 * dpr, 0, 2 * Math.PI);
    }
    ctx.strokeStyle = '#1976d2';
    ctx.lineWidth = 1.5 * dpr;
    ctx.stroke();
    run = [];
  };
  for (const p of points) {
    if (p.v === null) {
      flush();
    } else {
      run.push(p);
    }
  }
  flush();
}

// --- the page ----------------------------------------------------------------------------

const state = {
  readings: [], // the last P99_WINDOW_S + 1 good readings: {at, metrics}
  series: new Map(Object.keys(FIGURES).map((k) => [k, []])),
  token: '',
  timer: undefined,
};

function setMessage(kind, text) {
  const m = $('message');
  m.dataset.state = kind;
  m.textContent = text;
}

/** The server's own message from a JSON error body, or ''. */
async function serverMessage(res) {
  try {
    return (await res.json())?.error?.message ?? '';
  } catch {
    return '';
  }
}

/** Adds a point to a chart (v null: a gap), forgets what scrolled out, shows and draws it. */
function show(name, at, v) {
  const fig = FIGURES[name];
  const points = state.series.get(name);
  points.push({ at, v });
  while (points.length > 0 && at - points[0].at > HISTORY_S * 1000) {
    points.shift();
  }
  const section = document.querySelector(`[data-chart="${name}"]`);
  const out = section.querySelector('.value');
  out.dataset.value = v === null ? '' : String(v);
  out.textContent = formatNumber(v, fig.digits);
  draw(section.querySelector('canvas'), points, at, fig.digits);
}

function record(cur) {
  const prev = state.readings.at(-1);
  const windowStart = state.readings.find((r) => cur.at - r.at <= P99_WINDOW_S * 1000 + 500);
  for (const [name, fig] of Object.entries(FIGURES)) {
    show(name, cur.at, fig.value(prev, cur, windowStart));
  }
  state.readings.push(cur);
  while (state.readings.length > P99_WINDOW_S + 1) {
    state.readings.shift();
  }
  const up = total(cur.metrics, 'posfeed_database_up');
  $('connections').textContent = formatNumber(total(cur.metrics, 'posfeed_connections'), 0);
  $('connections-max').textContent = formatNumber(total(cur.metrics, 'posfeed_connections_max'), 0);
  $('database').textContent = up === null ? '—' : up > 0 ? 'ok' : 'unavailable';
  $('scraped').textContent = new Date().toLocaleTimeString();
}

/** A reading that could not be made: the charts get a gap, and rates restart after it. */
function gap() {
  state.readings = [];
  const at = Date.now();
  for (const name of Object.keys(FIGURES)) {
    show(name, at, null);
  }
}

async function scrape() {
  clearTimeout(state.timer);
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  try {
    const res = await fetch('/metrics', { headers, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) {
      const why = await serverMessage(res);
      setMessage(
        'unauthorized',
        `/metrics answered 401: ${state.token ? 'the token given is not metrics.token' : 'this server sets metrics.token'}; ` +
          `paste it above or open this page as /report/status#token=… (${why})`,
      );
      gap();
    } else if (res.status === 403) {
      const why = await serverMessage(res);
      setMessage(
        'forbidden',
        '/metrics answered 403: without metrics.token it answers only on the server itself; ' +
          `open this page from there (e.g. through an SSH tunnel) or set metrics.token (${why})`,
      );
      gap();
    } else if (!res.ok) {
      setMessage('error', `/metrics answered ${res.status} ${res.statusText}`);
      gap();
    } else {
      const metrics = parseMetrics(await res.text());
      setMessage('ok', `live: /metrics read every ${SCRAPE_MS / 1000} s`);
      record({ at: Date.now(), metrics });
    }
  } catch (e) {
    setMessage('error', `cannot read /metrics: ${e.message}`);
    gap();
  }
  state.timer = setTimeout(scrape, SCRAPE_MS);
}

function useToken(token) {
  state.token = token.trim();
  if (state.token) {
    sessionStorage.setItem(TOKEN_KEY, state.token);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
  state.readings = [];
  scrape();
}

function start() {
  // #token=... : taken, then removed from the address (and so from the history and bookmarks).
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromAddress = fragment.get('token');
  if (fromAddress !== null) {
    history.replaceState(null, '', location.pathname + location.search);
    sessionStorage.setItem(TOKEN_KEY, fromAddress.trim());
  }
  state.token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  $('token').value = state.token;
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    useToken($('token').value);
  });
  $('forget-token').addEventListener('click', () => {
    $('token').value = '';
    useToken('');
  });
  window.addEventListener('resize', () => {
    const now = Date.now();
    for (const [name, fig] of Object.entries(FIGURES)) {
      const section = document.querySelector(`[data-chart="${name}"]`);
      draw(section.querySelector('canvas'), state.series.get(name), now, fig.digits);
    }
  });
  scrape();
}

start();
