/**
 * The live dashboard: one static page, its script and styles. Kept as strings in a .ts file so
 * `tsc` ships them in dist/ with no copy step. The page holds no data: it asks for a token once
 * (kept in sessionStorage, sent as a Bearer header) and polls `GET /dashboard/data` every 2 s.
 * Every value from the server is written with textContent (SIP reason phrases come from the far
 * end and must never become markup).
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Gateway call setup: live</title>
<link rel="stylesheet" href="/dashboard/vendor/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/app.css">
</head>
<body>
<header>
  <h1>WebRTC gateway: call setup <span class="muted">(live)</span></h1>
  <div id="status" class="status" role="status" aria-live="polite">Not connected</div>
  <button id="signout" type="button" hidden>Forget token</button>
</header>

<section id="login" hidden>
  <form id="login-form" autocomplete="off">
    <h2>Sign in</h2>
    <p>Paste the gateway's <code>ADMIN_TOKEN</code>, or an access token with scope <code>gateway:dashboard:read</code>.
    It is kept in this tab only (sessionStorage) and sent as an <code>Authorization: Bearer</code> header.</p>
    <label for="token">Token</label>
    <input id="token" name="token" type="password" required spellcheck="false">
    <button type="submit">Open dashboard</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>

<main id="main" hidden>
  <section class="tiles" aria-label="Key figures">
    <div class="tile"><h3>Call attempts</h3><div class="v" id="k-rate">—</div><div class="s">per second, last 1 min (this instance)</div></div>
    <div class="tile"><h3>Setup success (SER)</h3><div class="v" id="k-ser">—</div><div class="s" id="k-ser-s">last 1 min · 5 min · 15 min</div></div>
    <div class="tile"><h3>Answer-seizure ratio (ASR)</h3><div class="v" id="k-asr">—</div><div class="s" id="k-asr-s">last 15 min</div></div>
    <div class="tile"><h3>Setup time p50 / p95 / p99</h3><div class="v" id="k-setup">—</div><div class="s" id="k-setup-s">INVITE → 2xx, last 15 min</div></div>
    <div class="tile"><h3>Post-dial delay p50 / p95</h3><div class="v" id="k-pdd">—</div><div class="s" id="k-pdd-s">INVITE → first 18x, last 15 min</div></div>
    <div class="tile"><h3>Active calls</h3><div class="v" id="k-active">—</div><div class="s">all instances</div></div>
    <div class="tile"><h3>Registrations</h3><div class="v" id="k-regs">—</div><div class="s">all instances</div></div>
    <div class="tile"><h3>Webhook backlog</h3><div class="v" id="k-backlog">—</div><div class="s">events waiting, all instances</div></div>
    <div class="tile"><h3>SIP outbound proxy</h3><div class="v" id="k-proxy">—</div><div class="s" id="k-proxy-s">OPTIONS every 10 s</div></div>
  </section>

  <section class="charts">
    <figure><figcaption>Calls per second (10 s buckets, last 15 min)</figcaption><div id="chart-rate" class="chart"></div></figure>
    <figure><figcaption>Setup success ratio, % (SER over the preceding minute)</figcaption><div id="chart-ser" class="chart"></div></figure>
  </section>

  <section class="hist">
    <h2>Setup time (INVITE → 2xx), last 15 min <span class="muted" id="hist-n"></span></h2>
    <div id="hist" class="bars" role="table" aria-label="Setup time histogram"></div>
  </section>

  <section>
    <h2>Last failed setups <span class="muted">(this instance, newest first, up to 50)</span></h2>
    <table id="failures">
      <thead><tr><th>Time</th><th>Direction</th><th>Status</th><th>SIP code</th><th>Reason</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-failures" class="muted" hidden>No failed setup in memory.</p>
  </section>
</main>
<script src="/dashboard/vendor/uPlot.iife.min.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { --bg:#0f1419; --panel:#1a2129; --fg:#e6e9ec; --muted:#8b98a5; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; align-items:center; gap:1rem; padding:.75rem 1.25rem; border-bottom:1px solid #2d333b; }
h1 { font-size:1.2rem; margin:0; flex:1; } h2 { font-size:1rem; margin:1.25rem 0 .5rem; } h3 { font-size:.8rem; margin:0; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
.muted { color:var(--muted); font-weight:normal; }
.status { padding:.25rem .6rem; border-radius:4px; background:#2d333b; font-size:.85rem; }
.status.ok { background:#1f3d2a; color:var(--ok); } .status.bad { background:#4a1d1d; color:#ffb3ad; }
main, #login { padding:1rem 1.25rem; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(220px, 1fr)); gap:.75rem; }
.tile { background:var(--panel); border-radius:6px; padding:.75rem; }
.tile .v { font-size:1.7rem; font-weight:600; font-variant-numeric:tabular-nums; margin:.25rem 0; }
.tile .s { font-size:.8rem; color:var(--muted); }
.v.ok { color:var(--ok); } .v.warn { color:var(--warn); } .v.bad { color:var(--bad); }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(480px, 1fr)); gap:.75rem; margin-top:.75rem; }
figure { margin:0; background:var(--panel); border-radius:6px; padding:.75rem; }
figcaption { font-size:.85rem; color:var(--muted); margin-bottom:.25rem; }
.chart { min-height:240px; }
.uplot, .u-legend { color:var(--fg); font-family:inherit; }
.bars { background:var(--panel); border-radius:6px; padding:.75rem; display:grid; grid-template-columns:7rem 1fr 4rem; gap:.2rem .75rem; align-items:center; font-variant-numeric:tabular-nums; }
.bar { height:1rem; background:var(--accent); border-radius:2px; min-width:1px; }
.bars .n { text-align:right; }
table { width:100%; border-collapse:collapse; background:var(--panel); border-radius:6px; }
th, td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid #2d333b; font-variant-numeric:tabular-nums; }
th { color:var(--muted); font-weight:600; font-size:.8rem; }
td.code { font-weight:600; }
form { max-width:34rem; background:var(--panel); padding:1rem 1.25rem; border-radius:6px; }
label { display:block; margin:.75rem 0 .25rem; }
input { width:100%; padding:.5rem; background:#0d1117; color:var(--fg); border:1px solid #444c56; border-radius:4px; font:inherit; }
button { margin-top:.75rem; padding:.45rem .9rem; background:#238636; color:#fff; border:0; border-radius:4px; font:inherit; cursor:pointer; }
header button { margin:0; background:#30363d; }
.error { color:var(--bad); min-height:1.2em; }
code { background:#2d333b; padding:0 .25rem; border-radius:3px; }
`;

export const DASHBOARD_JS = `'use strict';
(function () {
  var TOKEN_KEY = 'gateway.dashboard.token';
  var POLL_MS = 2000;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null, charts = {}, lastOk = 0, failuresInARow = 0;

  function token() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function setToken(t) { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }
  function fmtPct(p) { return p === null || p === undefined ? '—' : p.toFixed(1) + ' %'; }
  function fmtNum(n) { return n === null || n === undefined ? '—' : String(n); }
  function set(id, text, cls) { var el = $(id); el.textContent = text; el.className = 'v' + (cls ? ' ' + cls : ''); }
  function ratioClass(p) { return p === null ? '' : p >= 95 ? 'ok' : p >= 80 ? 'warn' : 'bad'; }
  function status(text, cls) { var el = $('status'); el.textContent = text; el.className = 'status ' + (cls || ''); }

  function showLogin(message) {
    stop();
    $('main').hidden = true; $('signout').hidden = true; $('login').hidden = false;
    $('login-error').textContent = message || '';
    status('Not connected', '');
    $('token').focus();
  }
  function showMain() { $('login').hidden = true; $('main').hidden = false; $('signout').hidden = false; }
  function stop() { if (timer) { clearTimeout(timer); timer = null; } }

  function chart(id, series, yLabel, yRange) {
    var el = $(id);
    var opts = {
      width: Math.max(300, el.clientWidth), height: 240,
      scales: { x: { time: true }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [ { stroke: '#8b98a5', grid: { stroke: '#2d333b' } }, { stroke: '#8b98a5', grid: { stroke: '#2d333b' }, label: yLabel } ],
      series: [{}].concat(series),
    };
    var data = [[]].concat(series.map(function () { return []; }));
    return new uPlot(opts, data, el);
  }

  function ensureCharts() {
    if (charts.rate || typeof uPlot === 'undefined') return;
    charts.rate = chart('chart-rate', [
      { label: 'attempts/s', stroke: '#58a6ff', width: 2 },
      { label: 'answered/s', stroke: '#3fb950', width: 2 },
      { label: 'failed/s', stroke: '#f85149', width: 2 },
    ], 'calls / s');
    charts.ser = chart('chart-ser', [{ label: 'SER %', stroke: '#d29922', width: 2, spanGaps: false, points: { show: true, size: 5 } }], '%', [0, 100]);
    window.addEventListener('resize', function () {
      Object.keys(charts).forEach(function (k) { var c = charts[k]; c.setSize({ width: Math.max(300, c.root.parentNode.clientWidth - 24), height: 240 }); });
    });
  }

  function renderHistogram(dist) {
    var box = $('hist');
    while (box.firstChild) box.removeChild(box.firstChild);
    $('hist-n').textContent = '(' + dist.count + ' answered call' + (dist.count === 1 ? '' : 's') + ')';
    var max = dist.buckets.reduce(function (m, b) { return Math.max(m, b.count); }, 0);
    var prev = 0;
    dist.buckets.forEach(function (b) {
      var label = document.createElement('div');
      label.textContent = b.le === null ? '> ' + fmtMs(prev) : '≤ ' + fmtMs(b.le);
      if (b.le !== null) prev = b.le;
      var track = document.createElement('div');
      var bar = document.createElement('div'); bar.className = 'bar';
      bar.style.width = (max > 0 ? (100 * b.count / max) : 0) + '%';
      track.appendChild(bar);
      var n = document.createElement('div'); n.className = 'n'; n.textContent = String(b.count);
      box.appendChild(label); box.appendChild(track); box.appendChild(n);
    });
  }

  function renderFailures(list) {
    var body = $('failures').tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    $('no-failures').hidden = list.length > 0;
    list.forEach(function (f) {
      var tr = document.createElement('tr');
      var cells = [new Date(f.time).toLocaleTimeString(), f.direction, f.status, f.sipCode === null ? 'none' : String(f.sipCode), f.reason === null ? '' : f.reason];
      cells.forEach(function (text, i) { var td = document.createElement('td'); td.textContent = text; if (i === 3) td.className = 'code'; tr.appendChild(td); });
      body.appendChild(tr);
    });
  }

  function render(d) {
    var c = d.calls, t = c.totals;
    set('k-rate', (t.last1m.attempts / 60).toFixed(2) + ' /s');
    set('k-ser', fmtPct(t.last1m.serPct), ratioClass(t.last1m.serPct));
    $('k-ser-s').textContent = '1 min ' + fmtPct(t.last1m.serPct) + ' · 5 min ' + fmtPct(t.last5m.serPct) + ' · 15 min ' + fmtPct(t.last15m.serPct) + ' (SEER 15 min ' + fmtPct(t.last15m.seerPct) + ')';
    set('k-asr', fmtPct(t.last15m.asrPct), ratioClass(t.last15m.asrPct));
    $('k-asr-s').textContent = t.last15m.answered + ' answered of ' + (t.last15m.answered + t.last15m.failed) + ' concluded, last 15 min';
    set('k-setup', fmtMs(c.setupTimeMs.p50) + ' / ' + fmtMs(c.setupTimeMs.p95) + ' / ' + fmtMs(c.setupTimeMs.p99));
    set('k-pdd', fmtMs(c.postDialDelayMs.p50) + ' / ' + fmtMs(c.postDialDelayMs.p95));
    set('k-active', fmtNum(d.active.calls));
    set('k-regs', fmtNum(d.active.registrations));
    set('k-backlog', fmtNum(d.webhookBacklog), d.webhookBacklog === null ? '' : d.webhookBacklog > 1000 ? 'bad' : d.webhookBacklog > 100 ? 'warn' : 'ok');
    var p = d.sipProxy;
    if (!p) { set('k-proxy', 'not probed yet', 'warn'); $('k-proxy-s').textContent = 'OPTIONS every 10 s'; }
    else if (p.ok) { set('k-proxy', 'UP · ' + fmtMs(p.rttMs), 'ok'); $('k-proxy-s').textContent = 'answered ' + p.code + ' at ' + new Date(p.checkedAt).toLocaleTimeString(); }
    else { set('k-proxy', 'DOWN', 'bad'); $('k-proxy-s').textContent = (p.error || 'no answer') + ' (' + new Date(p.checkedAt).toLocaleTimeString() + ')'; }
    ensureCharts();
    var s = c.series;
    if (charts.rate) {
      charts.rate.setData([s.t, s.attemptsPerS, s.answeredPerS, s.failedPerS]);
      charts.ser.setData([s.t, s.serPct]);
    }
    renderHistogram(c.setupTimeMs);
    renderFailures(c.failures);
    var problems = d.unavailable.length ? ' · unavailable: ' + d.unavailable.join(', ') : '';
    status('Updated ' + new Date(d.generatedAt).toLocaleTimeString() + problems, d.unavailable.length ? 'bad' : 'ok');
  }

  function poll() {
    var t = token();
    if (!t) { showLogin(); return; }
    fetch('/dashboard/data', { headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) {
          return res.json().catch(function () { return {}; }).then(function (body) {
            setToken(null); showLogin((body && body.message) || 'The token was refused.');
            throw null;
          });
        }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (d) { failuresInARow = 0; lastOk = Date.now(); showMain(); render(d); schedule(); })
      .catch(function (err) {
        if (err === null) return;
        failuresInARow++;
        var age = lastOk ? Math.round((Date.now() - lastOk) / 1000) + ' s ago' : 'never';
        status('Gateway not answering (' + (err && err.message ? err.message : 'network error') + '); last update ' + age, 'bad');
        schedule();
      });
  }
  function schedule() { stop(); timer = setTimeout(poll, failuresInARow > 3 ? POLL_MS * 3 : POLL_MS); }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var v = $('token').value.trim();
    if (!v) return;
    setToken(v); $('token').value = ''; status('Connecting…', ''); poll();
  });
  $('signout').addEventListener('click', function () { setToken(null); showLogin(); });
  if (token()) poll(); else showLogin();
})();
`;
