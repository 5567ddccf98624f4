// Ops dashboard: plain browser JavaScript, no build step and no CDN (the platform may run where
// there is no internet). Every request carries the bearer token; text goes in with textContent.
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') n.className = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v);
  }
  for (const kid of kids) n.append(kid instanceof Node ? kid : document.createTextNode(String(kid ?? '')));
  return n;
};
const badge = (s) => el('span', { class: `badge ${s}` }, s);
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const ago = (iso) => {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : new Date(iso).toLocaleString();
};

let token = sessionStorage.getItem('preflight.token') ?? '';
let selected = null;
let timer = null;

async function api(path, accept = 'application/json') {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept } });
  if (res.status === 401 && !$('#app').hidden) {
    logout('Your session is no longer valid: sign in again.');
    throw new Error('unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const err = new Error(body.message ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return accept.includes('yaml') ? res.text() : res.json();
}

function logout(message = '') {
  token = '';
  sessionStorage.removeItem('preflight.token');
  clearInterval(timer);
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#login-error').textContent = message;
}

async function login(t) {
  token = t.trim();
  try {
    const me = await api('/api/me');
    sessionStorage.setItem('preflight.token', token);
    $('#who').textContent = `${me.subject} · ${me.roles.join(', ')}${me.tenant ? ` · tenant ${me.tenant}` : ''}`;
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#logout').hidden = false;
    await refresh();
    clearInterval(timer);
    timer = setInterval(() => refresh().catch(() => {}), 2000);
  } catch (e) {
    if (e.message !== 'unauthorized') $('#login-error').textContent = `Sign-in failed: ${e.message}`;
  }
}

function renderRates(m) {
  const cards = [
    ['handshake_success_rate', pct(m.handshake_success_rate)],
    ['schema_validation_pass_rate', pct(m.schema_validation_pass_rate)],
    ['credential_audit_pass_rate', pct(m.credential_audit_pass_rate)],
    ['preflight_ready_rate', pct(m.preflight_ready_rate)],
    ['preflight_duration_ms p50 / p99', `${m.preflight_duration_ms.p50 ?? '—'} / ${m.preflight_duration_ms.p99 ?? '—'}`],
    ['READY / FAILED', `${m.connectors_by_state.READY} / ${m.connectors_by_state.FAILED}`],
  ];
  $('#rates').replaceChildren(...cards.map(([label, value]) => el('div', { class: 'card metric' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label))));
}

function renderChart(series) {
  const box = $('#chart');
  if (!series.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No outcomes yet (or your role sees only its tenant).'));
    return;
  }
  const W = 900, H = 180, P = 28;
  const lines = [
    ['preflight ready rate', '#2f5bd3', (b) => (b.ready + b.failed ? b.ready / (b.ready + b.failed) : null)],
    ['handshake success rate', '#1a7f37', (b) => (b.handshakeCompleted + b.handshakeFailed ? b.handshakeCompleted / (b.handshakeCompleted + b.handshakeFailed) : null)],
    ['schema pass rate', '#b26a00', (b) => (b.schemaPass + b.schemaFail ? b.schemaPass / (b.schemaPass + b.schemaFail) : null)],
  ];
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', '100%');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'success rates per minute');
  const x = (i) => P + (series.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (series.length - 1));
  const y = (v) => H - P - v * (H - 2 * P);
  for (const v of [0, 0.5, 1]) {
    const g = document.createElementNS(ns, 'line');
    Object.entries({ x1: P, x2: W - P, y1: y(v), y2: y(v), stroke: '#e3e6eb' }).forEach(([k, val]) => g.setAttribute(k, val));
    svg.append(g);
    const t = document.createElementNS(ns, 'text');
    Object.entries({ x: 2, y: y(v) + 4, 'font-size': 10, fill: '#6b7385' }).forEach(([k, val]) => t.setAttribute(k, val));
    t.textContent = `${v * 100}%`;
    svg.append(t);
  }
  // Equal rates would hide each other: each series gets a smaller dot than the one before, so
  // overlapping points show as rings; hovering a point says which rate, minute and value.
  lines.forEach(([name, color, f], n) => {
    const pts = series.map((b, i) => ({ px: x(i), v: f(b), minute: b.minute })).filter((p) => p.v !== null);
    if (!pts.length) return;
    const path = document.createElementNS(ns, 'polyline');
    Object.entries({ points: pts.map((p) => `${p.px},${y(p.v)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-opacity': 0.85 }).forEach(([k, val]) => path.setAttribute(k, val));
    svg.append(path);
    for (const p of pts) {
      const c = document.createElementNS(ns, 'circle');
      Object.entries({ cx: p.px, cy: y(p.v), r: 6 - 1.5 * n, fill: color }).forEach(([k, val]) => c.setAttribute(k, val));
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${name}, ${p.minute} UTC: ${(p.v * 100).toFixed(1)}%`;
      c.append(title);
      svg.append(c);
    }
  });
  const legend = el('div', { class: 'chart-legend' }, ...lines.map(([name, color]) => el('span', { style: `color:${color}` }, `● ${name}`)), el('span', { class: 'muted' }, `${series[0].minute} → ${series.at(-1).minute} UTC`));
  box.replaceChildren(svg, legend);
}

function renderConnectors(list) {
  const body = $('#connectors tbody');
  body.replaceChildren(
    ...list.map((c) =>
      el('tr', { class: c.connectorId === selected ? 'selected' : '', 'data-id': c.connectorId, onclick: () => select(c.connectorId) }, el('td', {}, c.name, el('div', { class: 'muted small' }, c.connectorId)), el('td', {}, c.tenantId), el('td', {}, c.sourceType), el('td', {}, badge(c.status)), el('td', { class: 'muted' }, ago(c.updatedAt))),
    ),
  );
  $('#connectors-empty').hidden = list.length > 0;
}

async function select(id) {
  selected = id;
  document.querySelectorAll('#connectors tbody tr').forEach((r) => r.classList.toggle('selected', r.dataset.id === id));
  await renderDetail();
}

async function renderDetail() {
  if (!selected) return;
  const c = await api(`/api/connectors/${encodeURIComponent(selected)}`);
  $('#detail-title').replaceChildren(`${c.name} `, badge(c.status));
  const timeline = el('ul', { class: 'timeline' }, ...c.history.slice().reverse().map((h) => el('li', {}, el('span', { class: 'muted small' }, `${new Date(h.at).toLocaleTimeString()} `), el('strong', {}, h.eventType.replace('connector.', '')), ' ', h.status ? badge(h.status) : '', ' ', h.summary)));
  const parts = [el('div', { class: 'muted small' }, `${c.connectorId} · ${c.sourceType} · ${c.environment} · ${c.attempts} attempt(s)`), el('h3', {}, 'Timeline'), timeline];
  if (c.retired) parts.push(el('p', { class: 'retired' }, badge('RETIRED'), ` deregistered by ${c.retired.actor} ${ago(c.retired.at)}${c.retired.reason ? `: ${c.retired.reason}` : ''}. History and receipts stay readable; preflights are refused.`));
  if (c.lastChange) parts.push(el('h3', {}, 'Last change'), changeView(c.lastChange));
  if (c.pendingApproval) parts.push(el('p', {}, badge('AWAITING_APPROVAL'), ` needs ${c.pendingApproval.requiredRole}: ${c.pendingApproval.reason}`));
  if (c.lastReceipt) {
    const yaml = await api(`/api/connectors/${encodeURIComponent(selected)}/receipt`, 'application/yaml');
    parts.push(el('h3', {}, 'Receipt'), el('pre', { id: 'receipt' }, yaml));
  } else parts.push(el('p', { class: 'muted' }, 'No receipt yet.'));
  $('#detail-body').replaceChildren(...parts);
  $('#detail-body').classList.remove('muted');
}

/** An update: what changed, who and why, and the contract changelog with each change classified. */
function changeView(ch) {
  const head = el('p', { class: 'small' }, `${ch.changed.join(', ')} changed by ${ch.actor} ${ago(ch.at)}${ch.reason ? `: ${ch.reason}` : ''}${ch.attemptId ? '' : ' (not preflighted yet)'}`);
  if (!ch.changelog) return el('div', { id: 'changelog' }, head);
  const log = ch.changelog;
  return el(
    'div',
    { id: 'changelog' },
    head,
    el('p', {}, `contract ${log.from} → ${log.to} `, badge(log.breaking ? 'BREAKING' : 'NON_BREAKING')),
    el('table', {}, el('tbody', {}, ...log.changes.map((x) => el('tr', {}, el('td', {}, badge(x.breaking ? 'BREAKING' : 'NON_BREAKING')), el('td', {}, x.kind), el('td', {}, x.path), el('td', { class: 'muted' }, x.detail))))),
  );
}

function renderRelease(rows) {
  $('#release tbody').replaceChildren(
    ...rows.map((r) =>
      el(
        'tr',
        { 'data-id': r.connector, title: r.reasons.join('; '), onclick: () => select(r.connector) },
        el('td', {}, el('strong', {}, r.dataset)),
        el('td', {}, r.tenant),
        el('td', {}, r.connectorName, ' ', badge(r.connectorStatus)),
        el('td', {}, badge(r.schemaAdherence)),
        el('td', {}, badge(r.dataQuality), ...r.failing.filter((f) => !f.expectation.startsWith('schema:')).map((f) => el('div', { class: 'muted small' }, `${f.expectation}${f.column ? ` (${f.column})` : ''}`))),
        el('td', { class: 'muted small' }, r.lastCheckpoint ? `${r.lastCheckpoint.successful}/${r.lastCheckpoint.evaluated} expectations · ${ago(r.lastCheckpoint.at)}` : '—'),
        el('td', {}, badge(r.pass ? 'PASS' : 'FAIL')),
        el('td', {}, el('a', { href: r.evidence.receipt, onclick: (ev) => ev.stopPropagation() }, 'receipt')),
      ),
    ),
  );
  $('#release-empty').hidden = rows.length > 0;
}

function renderList(sel, items, line) {
  $(sel).replaceChildren(...(items.length ? items.map(line) : [el('li', { class: 'muted' }, 'None.')]));
}

// Server-side pages: `pages` holds the cursor that opened each page seen so far, so ‹ goes back.
const PAGE_SIZE = 25;
let pages = [undefined];

/** One pager's buttons and "a–b of n", for a list whose page `shown` items came with `body`. */
function renderPagerOf(prefix, stack, size, shown, body) {
  const page = stack.length - 1;
  $(`#${prefix}-info`).textContent = `${page * size + (shown ? 1 : 0)}–${page * size + shown} of ${body.total}`;
  $(`#${prefix}-prev`).disabled = page === 0;
  $(`#${prefix}-next`).disabled = !body.nextCursor;
  $(`#${prefix}-next`).dataset.cursor = body.nextCursor ?? '';
}

function renderPager(connectors) {
  renderPagerOf('page', pages, PAGE_SIZE, connectors.connectors.length, connectors);
}

// Incidents and alerts page on the server too, each with its own stack of cursors.
const LIST_PAGE_SIZE = 10;
const listPages = { incidents: [undefined], alerts: [undefined] };
function listQuery(name) {
  const q = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
  const cursor = listPages[name].at(-1);
  if (cursor) q.set('cursor', cursor);
  return q;
}

async function refresh() {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [k, id] of [['state', '#f-state'], ['sourceType', '#f-source'], ['q', '#f-q']]) if ($(id).value) q.set(k, $(id).value);
  const cursor = pages.at(-1);
  if (cursor) q.set('cursor', cursor);
  const incidentQuery = listQuery('incidents');
  incidentQuery.set('status', $('#f-incidents').value);
  const [connectors, metrics, incidents, alerts, release] = await Promise.all([api(`/api/connectors?${q}`), api('/api/metrics'), api(`/api/incidents?${incidentQuery}`), api(`/api/alerts?${listQuery('alerts')}`), api('/api/release-readiness')]);
  renderRelease(release.datasets);
  renderRates(metrics.metrics);
  renderChart(metrics.series);
  renderConnectors(connectors.connectors);
  renderPager(connectors);
  renderList('#incidents', incidents.incidents, (i) =>
    el('li', { class: `incident ${i.status}` }, badge(i.severity), ' ', badge(i.status), ' ', el('strong', {}, i.incidentId), ` ${i.summary} `,
      el('span', { class: 'muted small' }, `opened ${ago(i.openedAt)} · seen ${i.occurrences}× (last ${ago(i.lastSeenAt || i.openedAt)})${i.resolvedAt ? ` · resolved ${ago(i.resolvedAt)}${i.resolution ? ` (${i.resolution.reason.toLowerCase()}${i.resolution.supersededBy ? ` by ${i.resolution.supersededBy}` : ''})` : ''}` : ''} · ${i.delivery ?? ''}`)));
  renderList('#alerts', alerts.alerts, (a) => el('li', {}, badge(a.severity), ' ', el('strong', {}, a.kind), ` ${a.summary} `, el('span', { class: 'muted small' }, ago(a.raisedAt))));
  renderPagerOf('incidents', listPages.incidents, LIST_PAGE_SIZE, incidents.incidents.length, incidents);
  renderPagerOf('alerts', listPages.alerts, LIST_PAGE_SIZE, alerts.alerts.length, alerts);
  try {
    const topics = await api('/api/topics');
    $('#topics tbody').replaceChildren(
      ...topics.topics
        .filter((t) => t.messages > 0 || t.lag.length || t.deadLetters > 0)
        .map((t) =>
          el('tr', {}, el('td', {}, t.topic), el('td', {}, t.messages), el('td', {}, t.ratePerSec), el('td', {}, t.lag.map((l) => `${l.group}: ${l.lag}`).join(' · ') || '—'),
            // What a service gave up on waits in <topic>.dlq with its reason; a person has to look.
            el('td', t.deadLetters > 0 ? { class: 'dead', title: `${t.deadLetters} message(s) in ${t.topic}.dlq — the dlq_reason header says why` } : {}, t.deadLetters > 0 ? `${t.deadLetters} in .dlq` : t.deadLetters === null ? '—' : '0')),
        ),
    );
    $('#topics-note').textContent = '';
  } catch (e) {
    $('#topics tbody').replaceChildren();
    $('#topics-note').textContent = e.status === 403 ? 'Topic rates and lag are for platform admins and observability engineers.' : `Topics unavailable: ${e.message}`;
  }
  if (selected) await renderDetail().catch(() => {});
  $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void login($('#token').value);
});
$('#logout').addEventListener('click', () => logout());
$('#f-incidents').addEventListener('input', () => {
  listPages.incidents = [undefined];
  refresh().catch(() => {});
});
for (const id of ['#f-state', '#f-source', '#f-q'])
  $(id).addEventListener('input', () => {
    pages = [undefined];
    refresh().catch(() => {});
  });
$('#page-next').addEventListener('click', () => {
  pages.push($('#page-next').dataset.cursor);
  refresh().catch(() => {});
});
$('#page-prev').addEventListener('click', () => {
  if (pages.length > 1) pages.pop();
  refresh().catch(() => {});
});
for (const name of ['incidents', 'alerts']) {
  $(`#${name}-next`).addEventListener('click', () => {
    listPages[name].push($(`#${name}-next`).dataset.cursor);
    refresh().catch(() => {});
  });
  $(`#${name}-prev`).addEventListener('click', () => {
    if (listPages[name].length > 1) listPages[name].pop();
    refresh().catch(() => {});
  });
}
if (token) void login(token);
