// The browser test page (GET /report/pos/tests/eventsource.htm): log in or paste a credential,
// pick wants, start/stop, and watch every event live. Plain ES module, no build step.
//
// The page's own address can preset the form: ?want=products,levels&client=posfeed-fetch
// &shared=1&format=json&location=2&snapshot=1&start=1 (start=1 starts at once, using the
// logged-in session's UrlToken). Event data is shown with textContent only.

import { PosFeed } from '/js/posfeed.js';

const $ = (id) => document.getElementById(id);
const MAX_SHOWN = 500;

const ui = {
  counts: new Map(),
  total: 0,
  feed: null, // a PosFeed, or { close() } around a bare EventSource
};

function showError(text) {
  $('error').textContent = text ?? '';
}

function setState(state, { reconnects, leader } = {}) {
  $('state').textContent = state;
  if (reconnects !== undefined) {
    $('reconnects').textContent = String(reconnects);
  }
  if (leader !== undefined) {
    $('role').textContent = leader ? 'leader' : 'follower';
  }
  const running = state !== 'stopped' && state !== 'closed';
  $('start').disabled = running;
  $('stop').disabled = !running;
}

function count(type) {
  const n = (ui.counts.get(type) ?? 0) + 1;
  ui.counts.set(type, n);
  let row = document.querySelector(`#counts tr[data-type="${CSS.escape(type)}"]`);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.type = type;
    row.append(document.createElement('td'), document.createElement('td'));
    row.cells[0].textContent = type;
    $('counts').tBodies[0].append(row);
  }
  row.cells[1].textContent = String(n);
}

function show(type, id, data) {
  ui.total += 1;
  $('total').textContent = String(ui.total);
  count(type);
  if (id) {
    $('last-rve').textContent = id;
  }
  const li = document.createElement('li');
  li.dataset.type = type;
  li.dataset.id = id ?? '';
  const t = document.createElement('span');
  t.className = 'type';
  t.textContent = type;
  const i = document.createElement('span');
  i.className = 'id';
  i.textContent = id ? `id ${id}` : 'no id';
  const pre = document.createElement('pre');
  pre.textContent = data;
  li.append(t, i, pre);
  const list = $('events');
  list.prepend(li);
  while (list.childElementCount > MAX_SHOWN) {
    list.lastElementChild.remove();
  }
}

function wants() {
  return [...document.querySelectorAll('input[name=want]:checked')].map((c) => c.value);
}

function query() {
  const q = {};
  if ($('format').value !== 'json') {
    q.format = $('format').value;
  }
  if ($('location').value.trim()) {
    q.location = $('location').value.trim();
  }
  if ($('snapshot').checked) {
    q.snapshot = '1';
  }
  return q;
}

async function api(method, path, body) {
  const res = await fetch(`/openapi/${path}`, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const e = json?.error;
    throw new Error(e ? `${res.status} ${e.code}: ${e.message}` : `${res.status} ${text}`);
  }
  return json?.data;
}

/** Fills the credential from the logged-in session (the cookie), when there is one. */
async function aboutMe() {
  try {
    const me = await api('GET', 'ActiveSession/AboutMe');
    $('credential').value = me.UrlToken;
    $('who').textContent = `logged in as ${me.User} (RmSystem ${me.RmSystem})`;
    return true;
  } catch {
    $('who').textContent = 'not logged in';
    return false;
  }
}

function startBareEventSource(url) {
  // The browser's own EventSource: it reconnects by itself after network errors (sending
  // Last-Event-ID), and gives up for good on an HTTP error.
  const es = new EventSource(url);
  let reconnects = 0;
  let opened = false;
  setState('connecting', { reconnects });
  es.onopen = () => {
    opened = true;
    setState('open', { reconnects });
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      setState('closed', { reconnects });
      showError('EventSource gave up (an HTTP error, or the server refused the stream)');
    } else if (opened) {
      reconnects += 1;
      opened = false;
      setState('reconnecting', { reconnects });
    }
  };
  const types = ['products', 'customers', 'levels', 'sales', 'sale', 'usermessage', 'userprompt',
    'barcode', 'ready', 'reset', 'debug', 'message'];
  for (const type of types) {
    es.addEventListener(type, (ev) => {
      if (type === 'ready') {
        setState('live', { reconnects });
      }
      // EventSource does not tell whether this event carried the id: it shows the last one.
      show(type, ev.lastEventId, ev.data);
    });
  }
  return {
    close() {
      es.close();
    },
  };
}

function start() {
  showError('');
  const want = wants();
  if (want.length === 0) {
    showError('tick at least one event type');
    return;
  }
  const credential = $('credential').value.trim();
  const client = $('client').value;
  const q = query();
  const headers = {};
  if (credential.startsWith('pfk_')) {
    if (client !== 'posfeed-fetch') {
      showError('an API key is sent in the X-Api-Key header: choose posfeed.js (fetch)');
      return;
    }
    headers['X-Api-Key'] = credential;
  } else if (credential) {
    q.token = credential;
  }
  const rve = $('rve').value.trim();
  if (client === 'eventsource') {
    const params = new URLSearchParams({ want: want.join(','), ...q });
    if (rve) {
      params.set('rve', rve);
    }
    ui.feed = startBareEventSource(`/eventsource?${params}`);
    return;
  }
  const feed = new PosFeed('/eventsource', {
    want,
    query: q,
    mode: client === 'posfeed-eventsource' ? 'eventsource' : 'fetch',
    headers,
    credentials: 'same-origin',
    lastEventId: rve || undefined,
    shared: $('shared').checked,
  });
  feed.on('event', (ev) => show(ev.type, ev.id, ev.data));
  feed.on('state', (s) => setState(s.state, s));
  feed.on('error', (err) => {
    const status = err.status ? `${err.status} ` : '';
    const code = err.code ? `${err.code}: ` : '';
    const retry = err.fatal ? ' (stopped)' : err.retryInMs !== undefined ? ` (retrying in ${Math.round(err.retryInMs)} ms)` : '';
    showError(`${status}${code}${err.message}${retry}`);
  });
  ui.feed = feed;
  feed.start();
}

function stop() {
  ui.feed?.close();
  ui.feed = null;
  setState('stopped');
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('');
  try {
    await api('POST', 'login', { User: $('user').value, Password: $('password').value });
    $('password').value = '';
    await aboutMe();
  } catch (err) {
    showError(`login failed: ${err.message}`);
  }
});

$('logout').addEventListener('click', async () => {
  stop();
  try {
    await api('POST', 'logout');
  } catch (err) {
    showError(`logout failed: ${err.message}`);
  }
  $('credential').value = '';
  await aboutMe();
});

$('start').addEventListener('click', start);
$('stop').addEventListener('click', stop);
$('clear').addEventListener('click', () => {
  $('events').replaceChildren();
});
window.addEventListener('pagehide', () => ui.feed?.close());

// Presets from the page's own query string.
const preset = new URLSearchParams(location.search);
if (preset.has('want')) {
  const chosen = new Set(preset.get('want').split(','));
  for (const c of document.querySelectorAll('input[name=want]')) {
    c.checked = chosen.has(c.value);
  }
}
for (const name of ['client', 'format', 'location', 'rve']) {
  if (preset.has(name)) {
    $(name).value = preset.get(name);
  }
}
for (const name of ['shared', 'snapshot']) {
  if (preset.has(name)) {
    $(name).checked = preset.get(name) === '1';
  }
}
setState('stopped');
aboutMe().then((loggedIn) => {
  if (preset.get('start') === '1' && loggedIn) {
    start();
  }
});
