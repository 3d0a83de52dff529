import { createHash } from 'node:crypto';

/**
 * The live status page served at `/`: one static document, no framework, no build step, no external assets.
 * The script polls the JSON endpoints (relative URLs, so the page also works behind a path prefix) and
 * renders every value with textContent: source names come from the config file and are untrusted. It never
 * writes HTML from data. The inline style and script are allowed by their SHA-256 hashes in the
 * Content-Security-Policy header, so nothing else can run or load.
 *
 * The client code below is plain browser JavaScript inside a template literal: it must not contain
 * backticks, `${` or a closing script tag.
 */

/** How often the page polls, in milliseconds. */
export const STATUS_PAGE_REFRESH_MS = 2500;

export const STATUS_PAGE_STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1b1f24; --muted: #5d6670; --line: #dde1e6;
  --ok: #16794a; --bad: #b42318; --warn: #9a6700; --accent: #2563eb; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111418; --card: #1a1f25; --fg: #e6e9ed; --muted: #9aa4ae; --line: #2c333b;
    --ok: #4ade80; --bad: #f87171; --warn: #facc15; --accent: #60a5fa; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1rem;
  padding: .75rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h3 { font-size: .9rem; margin: .75rem 0 .35rem; color: var(--muted); font-weight: 600; }
main { max-width: 1200px; margin: 0 auto; padding: .75rem; display: grid; gap: .75rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; min-width: 0; }
section.stale { opacity: .6; }
.note { color: var(--bad); font-size: .85rem; margin: 0 0 .5rem; }
.note:empty { display: none; }
#conn { margin: 0; font-size: .9rem; }
#conn.ok { color: var(--ok); }
#conn.bad { color: var(--bad); font-weight: 600; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.broker, td.error { word-break: break-all; }
.yes { color: var(--ok); font-weight: 600; }
.no { color: var(--bad); font-weight: 600; }
.bad { color: var(--bad); }
.muted { color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: .4rem; margin: 0; }
.tiles div { border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; min-width: 0; }
.tiles dt { font-size: .75rem; color: var(--muted); overflow-wrap: anywhere; }
.tiles dd { margin: 0; font-size: 1.05rem; font-variant-numeric: tabular-nums; }
.tiles div.bad dd { color: var(--bad); font-weight: 600; }
meter { width: 100%; height: 1rem; }
footer { text-align: center; color: var(--muted); font-size: .8rem; padding: .25rem 1rem 1rem; }
footer a { color: var(--accent); }
@media (max-width: 640px) {
  body { font-size: 14px; }
  main { padding: .5rem; gap: .5rem; }
  /* Each table row becomes a card: a six-column grid of labelled cells (thirds by default). */
  table.stack, table.stack tbody { display: block; }
  table.stack thead { display: none; }
  table.stack tr { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: .3rem .75rem;
    border: 1px solid var(--line); border-radius: 6px; margin-bottom: .5rem; padding: .4rem .6rem; }
  table.stack td { display: block; grid-column: span 2; border: 0; padding: 0; text-align: left; min-width: 0; overflow-wrap: anywhere; }
  table.stack td::before { content: attr(data-label); display: block; font-size: .72rem; font-weight: 400; color: var(--muted); }
  table.stack td.name { grid-column: 1 / -1; font-weight: 600; font-size: 1rem; }
  table.stack td.name::before { content: none; }
  table.stack td.wide { grid-column: 1 / -1; }
  table.stack td.half { grid-column: span 3; }
  table.stack td.result { order: 1; }
  .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
`;

export const STATUS_PAGE_SCRIPT = `
'use strict';
(function () {
  var REFRESH_MS = ${STATUS_PAGE_REFRESH_MS};
  var TIMEOUT_MS = 5000;
  var ENDPOINTS = { status: 'api/mqtt/status', stats: 'api/stats', maintenance: 'api/maintenance' };
  var SECTIONS = { status: 'sources-section', stats: 'ingest-section', maintenance: 'jobs-section' };
  var skewMs = 0;
  var previousSources = null;
  var previousMessages = null;
  var failedPolls = 0;
  var unreachableSince = null;

  function $(id) { return document.getElementById(id); }

  /** An element with text: the only way data reaches the DOM (textContent, never HTML). */
  function el(tag, text, className, title) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    if (title) node.title = String(title);
    return node;
  }

  function cell(label, text, className, title) {
    var td = el('td', text, className, title);
    td.dataset.label = label;
    return td;
  }

  function num(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : '?'; }

  function rate(n) { return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1); }

  function duration(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min' + (s % 60 && m < 10 ? ' ' + (s % 60) + ' s' : '');
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    return Math.floor(h / 24) + ' d';
  }

  function millis(ms) {
    if (typeof ms !== 'number') return '?';
    if (ms >= 1000) return (ms / 1000).toFixed(1) + ' s';
    return (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) + ' ms';
  }

  function serverNow() { return Date.now() + skewMs; }

  function ago(ms) { return ms ? duration(serverNow() - ms) + ' ago' : 'never'; }

  function clock(ms) { return new Date(ms).toLocaleTimeString(); }

  function stamp(iso) { var t = Date.parse(iso); return isNaN(t) ? String(iso) : new Date(t).toLocaleString(); }

  function fetchJson(url) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    return fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' }, signal: controller.signal })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .finally(function () { clearTimeout(timer); });
  }

  function renderSources(body, at) {
    if (body.sampleAt) {
      var sample = Date.parse(body.sampleAt);
      if (!isNaN(sample)) skewMs = sample + 500 - Date.now();
    }
    var sources = Array.isArray(body.sources) ? body.sources : [];
    var rows = [];
    var next = {};
    sources.forEach(function (s, i) {
      var key = i + ':' + s.name;
      next[key] = { total: s.packetsTotal, at: at };
      var before = previousSources && previousSources[key];
      var perSecond = before && at > before.at && s.packetsTotal >= before.total
        ? (s.packetsTotal - before.total) / ((at - before.at) / 1000)
        : (s.packetsLast5m || 0) / 300;
      var reconnects = Math.max(0, (s.connectCount || 0) - 1);
      var tr = document.createElement('tr');
      tr.dataset.source = String(s.name);
      tr.append(
        cell('Source', s.name, 'name'),
        cell('Broker', s.broker, 'broker wide'),
        cell('Connected', s.connected ? 'yes' : 'no', s.connected ? 'connected yes' : 'connected no',
          s.connected ? 'since ' + ago(s.lastConnectUnix * 1000) : (s.lastDisconnectUnix ? 'down since ' + ago(s.lastDisconnectUnix * 1000) : 'not connected yet')),
        cell('Last message', ago(s.lastPacketUnix * 1000), 'age num'),
        cell('msg/s', rate(perSecond), 'rate num', before ? 'between the last two refreshes' : 'average of the last 5 minutes'),
        cell('Messages', num(s.packetsTotal), 'packets num half', num(s.packetsLast5m) + ' in the last 5 minutes'),
        cell('Reconnects', num(reconnects), 'reconnects num half', num(s.connectCount) + ' connects, ' + num(s.disconnectCount) + ' disconnects'),
        cell('Last error', s.lastError || '\\u2014', s.lastError ? 'error wide bad' : 'error wide muted'),
      );
      rows.push(tr);
    });
    previousSources = next;
    if (!rows.length) {
      var empty = el('td', 'no MQTT sources configured', 'muted');
      empty.colSpan = 8;
      var tr = document.createElement('tr');
      tr.append(empty);
      rows.push(tr);
    }
    $('sources').tBodies[0].replaceChildren.apply($('sources').tBodies[0], rows);
    var watchdog = [];
    if (body.watchdogLastTickUnix) watchdog.push('watchdog tick ' + ago(body.watchdogLastTickUnix * 1000));
    if (body.watchdogPanicCount) watchdog.push(num(body.watchdogPanicCount) + ' stalls detected');
    $('watchdog').textContent = watchdog.join(' \\u00b7 ');
  }

  function tile(name, value, bad, key) {
    var div = el('div', null, bad ? 'bad' : '');
    if (key) div.dataset.counter = key;
    div.append(el('dt', name), el('dd', value, 'value'));
    return div;
  }

  var ERROR_COUNTERS = /error|drops|rejects|retries|restarts/;

  function renderStats(body, at) {
    var counters = body.counters || {};
    var gauges = body.gauges || {};
    var received = counters.messages_received;
    var tiles = [];
    if (typeof received === 'number') {
      var perSecond = previousMessages && at > previousMessages.at && received >= previousMessages.total
        ? rate((received - previousMessages.total) / ((at - previousMessages.at) / 1000))
        : '\\u2026';
      previousMessages = { total: received, at: at };
      tiles.push(tile('messages/s', perSecond, false, 'messages_per_second'));
    }
    Object.keys(counters).forEach(function (name) {
      var value = counters[name];
      tiles.push(tile(name, num(value), ERROR_COUNTERS.test(name) && value > 0, name));
    });
    $('counters').replaceChildren.apply($('counters'), tiles);

    var pending = gauges.buffer_pending;
    var capacity = gauges.buffer_capacity;
    var meter = $('queue-meter');
    if (typeof pending === 'number' && typeof capacity === 'number' && capacity > 0) {
      meter.max = capacity;
      meter.high = capacity * 0.8;
      meter.value = pending;
      $('queue').textContent = num(pending) + ' of ' + num(capacity) + ' queued (' + (pending / capacity * 100).toFixed(1) + ' %)';
    } else {
      $('queue').textContent = 'no queue gauge';
    }
    var gaugeTiles = Object.keys(gauges).filter(function (name) { return name !== 'buffer_pending' && name !== 'buffer_capacity'; })
      .map(function (name) { return tile(name, num(gauges[name]), name === 'buffer_dropped_total' && gauges[name] > 0, name); });
    $('gauges').replaceChildren.apply($('gauges'), gaugeTiles);

    var dropped = body.dropped || {};
    var dropTiles = Object.keys(dropped).map(function (name) { return tile(name, num(dropped[name]), false, 'dropped.' + name); });
    if (!dropTiles.length) dropTiles.push(el('p', 'nothing dropped', 'muted'));
    $('dropped').replaceChildren.apply($('dropped'), dropTiles);
  }

  function schedule(s) {
    if (!s || typeof s !== 'object') return '';
    var parts = [];
    if (s.every) parts.push('every ' + s.every);
    if (s.cron) parts.push('cron ' + s.cron + (s.timeZone ? ' (' + s.timeZone + ')' : ''));
    if (s.initialDelay) parts.push('first after ' + s.initialDelay);
    return parts.join(', ');
  }

  function renderJobs(body) {
    var jobs = Array.isArray(body.jobs) ? body.jobs : [];
    var rows = jobs.map(function (job) {
      var tr = document.createElement('tr');
      tr.dataset.job = String(job.name);
      var last = job.lastRun;
      var lastText = last ? ago(Date.parse(last.startedAt)) + ' (took ' + millis(last.durationMs) + ')' : 'never';
      var result = '\\u2014';
      var resultClass = 'result wide muted';
      if (last) {
        result = last.result + (last.rows !== null && last.rows !== undefined ? ', ' + num(last.rows) + ' rows' : '');
        if (last.error) result += ': ' + last.error;
        resultClass = last.result === 'ok' ? 'result wide yes' : 'result wide bad';
      }
      var nextText;
      if (job.running) nextText = 'running now';
      else if (job.nextRunAt) {
        var at = Date.parse(job.nextRunAt);
        nextText = at > serverNow() ? 'in ' + duration(at - serverNow()) : 'due';
      } else nextText = job.enabled ? 'not scheduled' : 'off';
      tr.append(
        cell('Job', job.name, 'name'),
        cell('Schedule', job.enabled ? schedule(job.schedule) : 'off' + (job.disabledReason ? ': ' + job.disabledReason : ''), job.enabled ? 'schedule wide' : 'schedule wide muted'),
        cell('Last run', lastText, 'last half', last ? stamp(last.startedAt) : ''),
        cell('Result', result, resultClass),
        cell('Next run', nextText, 'next half', job.nextRunAt ? stamp(job.nextRunAt) : ''),
        cell('Runs', num(job.runs), 'runs num'),
        cell('Failures', num(job.failures), job.failures > 0 ? 'failures num bad' : 'failures num'),
        cell('Skipped', num(job.skipped), 'skipped num'),
      );
      return tr;
    });
    $('jobs').tBodies[0].replaceChildren.apply($('jobs').tBodies[0], rows);
  }

  var RENDER = { status: renderSources, stats: renderStats, maintenance: renderJobs };

  function poll() {
    var names = Object.keys(ENDPOINTS);
    Promise.allSettled(names.map(function (name) { return fetchJson(ENDPOINTS[name]); })).then(function (results) {
      var at = Date.now();
      var failures = [];
      results.forEach(function (result, i) {
        var name = names[i];
        var section = $(SECTIONS[name]);
        var note = section.querySelector('.note');
        if (result.status === 'fulfilled') {
          try {
            RENDER[name](result.value, at);
            section.classList.remove('stale');
            note.textContent = '';
            return;
          } catch (error) {
            result = { reason: error };
          }
        }
        var reason = result.reason && result.reason.name === 'AbortError' ? 'timed out' : String((result.reason && result.reason.message) || result.reason);
        failures.push(name);
        section.classList.add('stale');
        note.textContent = ENDPOINTS[name] + ' unreachable (' + reason + '); showing the last values';
      });
      var conn = $('conn');
      if (failures.length === names.length) {
        failedPolls++;
        if (unreachableSince === null) unreachableSince = at;
        conn.textContent = 'unreachable since ' + clock(unreachableSince) + ' (' + failedPolls + ' failed refreshes), retrying';
        conn.className = 'bad';
        document.body.dataset.state = 'unreachable';
      } else {
        failedPolls = 0;
        unreachableSince = null;
        conn.textContent = (failures.length ? 'partly unreachable, ' : 'live, ') + 'updated ' + clock(at);
        conn.className = failures.length ? 'bad' : 'ok';
        document.body.dataset.state = failures.length ? 'partial' : 'live';
      }
    }).finally(function () {
      setTimeout(poll, REFRESH_MS);
    });
  }

  poll();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Nothing but the page's own inline style and script (by hash) and same-origin fetches; no frames, forms,
 * plugins, base URL changes or other origins. The icon is an empty data: URL (no /favicon.ico request).
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(STATUS_PAGE_SCRIPT)}`,
  `style-src ${sha256(STATUS_PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>meshcore-ingestor status</title>
<link rel="icon" href="data:,">
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body data-state="loading">
<header>
<h1>meshcore-ingestor</h1>
<p id="conn" role="status" aria-live="polite">loading\u2026</p>
</header>
<main>
<section id="sources-section" aria-labelledby="sources-title">
<h2 id="sources-title">MQTT sources</h2>
<p class="note"></p>
<div class="scroll">
<table id="sources" class="stack">
<thead><tr><th>Source</th><th>Broker</th><th>Connected</th><th class="num">Last message</th><th class="num">msg/s</th><th class="num">Messages</th><th class="num">Reconnects</th><th>Last error</th></tr></thead>
<tbody></tbody>
</table>
</div>
<p id="watchdog" class="muted"></p>
</section>
<section id="ingest-section" aria-labelledby="ingest-title">
<h2 id="ingest-title">Ingest</h2>
<p class="note"></p>
<h3>Queue</h3>
<p id="queue" class="muted">\u2026</p>
<meter id="queue-meter" min="0" max="1" value="0"></meter>
<dl id="gauges" class="tiles"></dl>
<h3>Counters</h3>
<dl id="counters" class="tiles"></dl>
<h3>Dropped</h3>
<dl id="dropped" class="tiles"></dl>
</section>
<section id="jobs-section" aria-labelledby="jobs-title">
<h2 id="jobs-title">Maintenance</h2>
<p class="note"></p>
<div class="scroll">
<table id="jobs" class="stack">
<thead><tr><th>Job</th><th>Schedule</th><th>Last run</th><th>Result</th><th>Next run</th><th class="num">Runs</th><th class="num">Failures</th><th class="num">Skipped</th></tr></thead>
<tbody></tbody>
</table>
</div>
</section>
</main>
<footer>Refreshes every ${STATUS_PAGE_REFRESH_MS / 1000} s from <a href="api/mqtt/status">api/mqtt/status</a>, <a href="api/stats">api/stats</a> and <a href="api/maintenance">api/maintenance</a>.</footer>
<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;
