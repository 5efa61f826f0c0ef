// atomix broker console: reads /api/status, /api/sessions and
// /api/primitives every second (and soon after each live event), and
// follows one primitive's changes on /api/events. Read-only: it never
// sends a write. Plain JavaScript, no libraries.
'use strict';

(() => {
  const REFRESH_MS = 1000;
  const MAX_EVENTS = 500;
  const LOCK_TYPES = ['LOCK', 'READ_WRITE_LOCK'];

  const $ = (id) => document.getElementById(id);

  // el('td', {class: 'num'}, 'text', child...): attributes starting with
  // "data-" become dataset entries; text is never parsed as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const num = (x) => Number(x || 0);

  function duration(ms) {
    ms = num(ms);
    if (ms < 1000) return `${ms} ms`;
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  // proto3 JSON bytes (base64) as text: UTF-8 if it is, else hex.
  function bytes(b64) {
    if (!b64) return '';
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch (e) {
      return '0x' + Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('');
    }
  }

  const typeName = (t) => String(t || '').toLowerCase().replace(/_/g, ' ');

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store' });
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      throw new Error((body && body.error) || `${path}: HTTP ${response.status}`);
    }
    return body;
  }

  // ---- state in the address: #watch=NAME&prefix=P ----
  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    return { watch: params.get('watch') || '', prefix: params.get('prefix') || '' };
  }
  function writeHash() {
    const params = new URLSearchParams();
    if (live.name) params.set('watch', live.name);
    if (view.prefix) params.set('prefix', view.prefix);
    const hash = params.toString();
    history.replaceState(null, '', hash ? `#${hash}` : location.pathname);
  }

  // ---- lists, refreshed every second ----
  const view = { prefix: '', timer: null, busy: false, again: false };

  function setConn(ok, text) {
    const conn = $('conn');
    conn.className = 'conn ' + (ok ? 'ok' : 'bad');
    conn.textContent = text;
  }

  function renderStatus(s) {
    $('s-broker').textContent = s.brokerId;
    $('s-broker').title = s.brokerId;
    $('s-version').textContent = s.version;
    $('s-revision').textContent = s.revision;
    $('s-revision').dataset.revision = s.revision;
    $('s-store').textContent = s.store;
    $('s-role').textContent = s.role;
    $('s-uptime').textContent = duration(s.uptimeMs);
    $('s-clients').textContent = s.clients;
    $('s-sessions').textContent = s.sessions;
    $('s-primitives').textContent = s.primitives;
  }

  function holding(h, cls) {
    return el('li', { class: cls, 'data-session': h.session, 'data-fence': h.fence },
      h.what || '(held)',
      h.session !== '0' ? ` · session ${h.session}` : '',
      num(h.fence) ? ' · ' : '',
      num(h.fence) ? el('span', { class: 'fence' }, `fence ${h.fence}`) : '');
  }

  function people(list, cls) {
    return el('ul', { class: 'people' }, ...list.map((h) => holding(h, cls)));
  }

  function watchButton(name) {
    const button = el('button', { type: 'button', class: 'link', title: 'watch its changes' }, name);
    button.addEventListener('click', () => startWatch(name));
    return button;
  }

  function renderPrimitives(page) {
    const byType = new Map();
    for (const p of page.primitives) {
      if (!byType.has(p.type)) byType.set(p.type, []);
      byType.get(p.type).push(p);
    }
    const parts = [];
    for (const type of [...byType.keys()].sort()) {
      const rows = byType.get(type).map((p) => el('tr', { 'data-name': p.name, 'data-type': p.type },
        el('td', {}, watchButton(p.name)),
        el('td', { class: 'summary' }, p.summary),
        el('td', { class: 'num' }, p.holders.length || ''),
        el('td', { class: 'num' }, p.waiters.length || '')));
      parts.push(el('h3', {}, `${typeName(type)} (${rows.length})`),
        el('table', { class: 'primitives' },
          el('colgroup', {}, el('col', { class: 'name' }), el('col'), el('col', { class: 'count' }), el('col', { class: 'count' })),
          el('tr', {}, el('th', {}, 'name'), el('th', {}, 'state'),
          el('th', { class: 'num' }, 'holders'), el('th', { class: 'num' }, 'waiting')), ...rows));
    }
    if (!parts.length) parts.push(el('p', { class: 'empty' }, view.prefix ? `No primitive starts with "${view.prefix}".` : 'No primitives yet.'));
    $('primitives').replaceChildren(...parts);
    $('primitives-count').textContent = `${page.primitives.length}${page.more ? '+' : ''} shown, at revision ${page.revision}`;

    const locks = page.primitives.filter((p) => LOCK_TYPES.includes(p.type));
    $('locks').replaceChildren(...(locks.length ? locks.map((p) => el('div', { class: 'lock', 'data-name': p.name },
      el('h3', {}, watchButton(p.name), el('span', { class: 'muted' }, ` ${p.summary}`)),
      p.holders.length ? people(p.holders, 'holder') : el('p', { class: 'empty' }, 'free'),
      p.waiters.length ? people(p.waiters, 'waiter') : null))
      : [el('p', { class: 'empty' }, 'No locks.')]));

    const elections = page.primitives.filter((p) => p.type === 'ELECTION');
    $('elections').replaceChildren(...(elections.length ? elections.map((p) => el('div', { class: 'election', 'data-name': p.name },
      el('h3', {}, watchButton(p.name), el('span', { class: 'muted' }, ` ${p.summary}`)),
      p.holders.length ? people(p.holders, 'holder leader') : el('p', { class: 'empty' }, 'no leader'),
      p.waiters.length ? people(p.waiters, 'waiter candidate') : null))
      : [el('p', { class: 'empty' }, 'No elections.')]));
  }

  function renderSessions(page) {
    const rows = page.sessions.map((s) => el('tr', { 'data-session': s.id },
      el('td', { class: 'id' }, s.id),
      el('td', { class: 'num' }, duration(s.ageMs)),
      el('td', { class: 'num' }, duration(s.ttlMs)),
      el('td', { class: 'num' }, duration(s.expiresInMs)),
      el('td', {}, s.holds.length
        ? el('ul', { class: 'people' }, ...s.holds.map((h) => el('li', { 'data-name': h.name, 'data-fence': h.fence },
          `${h.name} (${typeName(h.type)}): ${h.what}`, num(h.fence) ? ' · ' : '',
          num(h.fence) ? el('span', { class: 'fence' }, `fence ${h.fence}`) : '')))
        : el('span', { class: 'muted' }, s.waiting ? '' : 'nothing'),
        s.waiting ? el('span', { class: 'muted' }, ` waiting on ${s.waiting}`) : null)));
    $('sessions').replaceChildren(rows.length
      ? el('table', {}, el('tr', {}, el('th', {}, 'id'), el('th', { class: 'num' }, 'age'),
        el('th', { class: 'num' }, 'ttl'), el('th', { class: 'num' }, 'expires in'),
        el('th', {}, 'holds')), ...rows)
      : el('p', { class: 'empty' }, 'No open sessions.'));
  }

  async function refresh() {
    if (view.busy) { view.again = true; return; }
    view.busy = true;
    clearTimeout(view.timer);
    try {
      // One after the other, on one kept-alive connection.
      const status = await getJson('/api/status');
      const primitives = await getJson(`/api/primitives?limit=500&prefix=${encodeURIComponent(view.prefix)}`);
      const sessions = await getJson('/api/sessions?limit=500');
      renderStatus(status);
      renderPrimitives(primitives);
      renderSessions(sessions);
      setConn(status.serving, status.serving ? 'serving' : `not serving: ${status.problem}`);
    } catch (e) {
      setConn(false, `unreachable: ${e.message}`);
    } finally {
      view.busy = false;
      view.timer = setTimeout(refresh, view.again ? 50 : REFRESH_MS);
      view.again = false;
    }
  }

  // Soon after a live event, not once per event.
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh(); }, 100);
  }

  // ---- live events of one primitive ----
  // last: the revision of the last message shown; the browser resumes
  // after it by itself (Last-Event-ID), and so do we when we reopen.
  const live = { name: '', source: null, last: 0, brokerId: '', retry: null };

  function watchState(text) { $('watch-state').textContent = text; }

  function describe(e) {
    if (e.entry || e.previous) {
      const entry = e.entry || e.previous;
      const key = bytes(entry.key);
      if (!e.entry) return `${key || '(value)'} (was ${JSON.stringify(bytes(e.previous.value))})`;
      const was = e.previous ? ` (was ${JSON.stringify(bytes(e.previous.value))})` : '';
      return `${key || '(value)'} = ${JSON.stringify(bytes(entry.value))}${was}`;
    }
    if (e.counter) return `${num(e.counter.previousValue)} → ${num(e.counter.value)}`;
    if (e.holder) return num(e.holder.fence) ? `held by session ${e.holder.sessionId}, fence ${e.holder.fence}` : 'free';
    if (e.elected) {
      const leader = bytes(e.elected.leader);
      const candidates = (e.elected.candidates || []).map(bytes).join(', ');
      return leader ? `leader ${leader}, term ${e.elected.term}; candidates ${candidates}` : 'no leader';
    }
    const detail = { ...e };
    delete detail.type;
    delete detail.revision;
    return JSON.stringify(detail);
  }

  function addRow(row) {
    const list = $('events');
    list.prepend(row);
    while (list.childElementCount > MAX_EVENTS) list.lastElementChild.remove();
  }

  function note(text) { addRow(el('li', { class: 'note' }, text)); }

  function openSource(from) {
    const params = new URLSearchParams({ name: live.name });
    if (from) params.set('from', from);
    if (from && live.brokerId) params.set('broker', live.brokerId);
    const source = new EventSource(`/api/events?${params}`);
    live.source = source;
    source.addEventListener('hello', (m) => {
      const hello = JSON.parse(m.data);
      live.brokerId = hello.brokerId;
      watchState(`Live: ${typeName(hello.type)} "${hello.name}", from revision ${hello.from}.`);
    });
    source.addEventListener('reload', (m) => {
      const reload = JSON.parse(m.data);
      live.last = num(reload.revision);
      note(`History before revision ${reload.revision} is gone (${reload.reason}); showing the state as of now.`);
      refreshSoon();
    });
    source.onmessage = (m) => {
      const event = JSON.parse(m.data);
      const revision = num(m.lastEventId || event.revision);
      live.last = revision;
      addRow(el('li', { 'data-revision': revision, 'data-kind': event.type },
        el('span', { class: 'rev' }, revision),
        el('span', { class: `kind ${event.type}` }, event.type),
        el('span', { class: 'what' }, describe(event))));
      refreshSoon();
    };
    source.onerror = () => {
      if (live.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (unknown name, too many streams): try again later.
        watchState(`Cannot follow "${live.name}" now (no such primitive, or too many watchers); retrying in 5 s.`);
        live.retry = setTimeout(() => openSource(live.last ? live.last + 1 : 0), 5000);
      } else {
        watchState(`Connection lost; reconnecting, to resume after revision ${live.last}…`);
      }
    };
  }

  function stopWatch() {
    if (live.source) live.source.close();
    clearTimeout(live.retry);
    live.source = null;
    live.name = '';
    live.last = 0;
    live.brokerId = '';
  }

  function startWatch(name) {
    stopWatch();
    name = name.trim();
    $('watch-name').value = name;
    $('events').replaceChildren();
    writeHash();
    if (!name) {
      watchState('Pick a primitive (or type its name) to follow its changes.');
      return;
    }
    live.name = name;
    writeHash();
    watchState(`Connecting to "${name}"…`);
    openSource(0);
  }

  // ---- wiring ----
  $('watch-form').addEventListener('submit', (e) => { e.preventDefault(); startWatch($('watch-name').value); });
  $('watch-stop').addEventListener('click', () => startWatch(''));
  $('prefix-form').addEventListener('submit', (e) => e.preventDefault());
  $('prefix').addEventListener('input', () => { view.prefix = $('prefix').value; writeHash(); refresh(); });

  const initial = readHash();
  view.prefix = initial.prefix;
  $('prefix').value = initial.prefix;
  if (initial.watch) startWatch(initial.watch);
  refresh();
})();
