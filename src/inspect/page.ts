// The inspector's page: one static HTML file with its script inline (no build
// step, no dependencies). It reads the structured trace records from
// /events (live, from --inspect-port; or recorded, from redloop-replay) and
// draws the selected iteration: the interest set (poll's pollfd array, or
// epoll's ready list and epoll_ctl changes) with the ready entries lit, the
// timeout and what set it, the syscalls, the notes, and a card per open
// connection with its want flags and the bytes it read and wrote, frame ends
// marked. History: every record received is kept (up to 5000), so the view
// steps back and forward through past iterations in both modes. URLs are
// relative, so the same page also serves under /a/ and /b/ of a comparison.

/** Two recordings side by side (redloop-replay A B): each half is the page above; ◀ ▶ step both. */
export function comparePage(a: string, b: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>redloop — ${esc(a)} vs ${esc(b)}</title>
<style>
  body { margin:0; background:#0b0f13; color:#d8dee4; font:14px ui-monospace, monospace; }
  header { padding:.5rem 1rem; display:flex; gap:1rem; align-items:center; }
  button { font:inherit; background:#223040; color:#d8dee4; border:1px solid #34475a; border-radius:4px; padding:.2rem .7rem; cursor:pointer; }
  .panes { display:grid; grid-template-columns:1fr 1fr; gap:4px; height:calc(100vh - 44px); }
  iframe { width:100%; height:100%; border:0; }
</style></head>
<body>
<header><b>the same traffic, two recordings</b> <span>${esc(a)} | ${esc(b)}</span>
  <button id="back">◀ both</button><button id="forward">both ▶</button></header>
<div class="panes"><iframe id="a" src="a/" title="${esc(a)}"></iframe><iframe id="b" src="b/" title="${esc(b)}"></iframe></div>
<script>
  const click = (id) => { for (const f of ['a', 'b']) document.getElementById(f).contentDocument.getElementById(id).click(); };
  document.getElementById('back').onclick = () => click('back');
  document.getElementById('forward').onclick = () => click('forward');
</script>
</body></html>
`;
}

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>redloop — the loop, live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --bg:#0f1419; --panel:#182028; --ink:#d8dee4; --dim:#7d8a96; --lit:#ffd35c; --ok:#6cd97e; --warn:#ff8f6b; --acc:#6cb6ff; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--ink); font:14px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  header { position:sticky; top:0; z-index:1; display:flex; flex-wrap:wrap; gap:.6rem; align-items:center; padding:.6rem 1rem; background:#0b0f13; border-bottom:1px solid #26313b; }
  header h1 { font-size:15px; margin:0 1rem 0 0; }
  button { font:inherit; background:#223040; color:var(--ink); border:1px solid #34475a; border-radius:4px; padding:.2rem .7rem; cursor:pointer; }
  button:disabled { opacity:.4; cursor:default; }
  #status { padding:.15rem .6rem; border-radius:999px; background:#223040; }
  #status.paused { background:#5a4300; color:var(--lit); }
  #status.running { background:#123d20; color:var(--ok); }
  #status.replay { background:#1d2f4d; color:var(--acc); }
  main { display:grid; grid-template-columns: minmax(420px, 1fr) minmax(380px, 1fr); gap:1rem; padding:1rem; }
  section { background:var(--panel); border-radius:6px; padding:.8rem 1rem; min-width:0; }
  h2 { font-size:15px; margin:.1rem 0 .6rem; }
  h3 { font-size:13px; color:var(--dim); margin:1rem 0 .3rem; text-transform:uppercase; letter-spacing:.04em; }
  table { border-collapse:collapse; width:100%; }
  td, th { text-align:left; padding:.15rem .5rem; border-bottom:1px solid #26313b; vertical-align:top; }
  tr.ready td { background:#3a3000; color:var(--lit); }
  ol { margin:0; padding-left:2.2rem; }
  li.fail { color:var(--warn); }
  .note { color:var(--dim); white-space:pre-wrap; }
  .conn { border:1px solid #34475a; border-radius:6px; padding:.5rem .7rem; margin-bottom:.7rem; }
  .conn.inspector { border-style:dashed; }
  .conn h4 { margin:0 0 .3rem; font-size:14px; }
  .flag { display:inline-block; padding:0 .4rem; margin-right:.3rem; border-radius:3px; background:#26313b; color:var(--dim); }
  .flag.on { background:#124a5c; color:#bfefff; }
  .bytes { white-space:pre-wrap; word-break:break-all; background:#0b0f13; padding:.3rem .4rem; border-radius:4px; margin:.2rem 0; min-height:1.2em; }
  .bytes .end { color:var(--lit); font-weight:bold; }
  .esc { color:var(--acc); }
  .muted { color:var(--dim); }
  #about { grid-column: 1 / -1; color:var(--dim); }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>redloop · the loop, live</h1>
  <span id="status">connecting…</span>
  <span id="live-controls">
    <button id="pause" title="pause before the next iteration's poll">Pause</button>
    <button id="step" title="run exactly one iteration, then pause">Step</button>
    <button id="continue" title="run freely">Continue</button>
  </span>
  <span>history:
    <button id="back" title="previous recorded iteration">◀</button>
    <span id="position">–</span>
    <button id="forward" title="next recorded iteration">▶</button>
    <button id="latest" title="follow the newest iteration">latest</button>
  </span>
</header>
<main>
  <section id="iter">
    <h2 id="iteration">waiting for an iteration…</h2>
    <div id="timeout" class="muted"></div>
    <h3 id="interest-title">interest set</h3>
    <table id="interest"><thead><tr><th>fd</th><th>what</th><th>events</th><th>revents</th></tr></thead><tbody></tbody></table>
    <div id="changes"></div>
    <h3>syscalls</h3>
    <ol id="syscalls"></ol>
    <h3>notes</h3>
    <div id="notes" class="note"></div>
    <div id="timers" class="note"></div>
  </section>
  <section>
    <h2>connections <small class="muted" id="conn-count"></small></h2>
    <div id="conns"><p class="muted">No connection yet: connect a client (redis-cli -p 6379, redloop-cli).</p></div>
  </section>
  <section id="about">
    Each record is one iteration of redloop's loop (docs/trace-json.md): the poll (or epoll_wait) and what it woke for,
    then the reads, requests, writes and closes it led to. This page is itself a client of the loop: its listener and
    its connections are watched fds in the same poll set (labelled <i>inspector</i>); their own reads and writes are
    left out of the trace, so that watching does not create the traffic it watches.
  </section>
</main>
<script>
(() => {
  const MAX = 5000;
  const records = [];
  let shown = -1, follow = true, mode = 'live', paused = false, pausedAt = 0;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

  function showBytes(s, ends) {
    // latin1 text → printable, with \\r \\n and \\xNN escapes; frame ends marked with ▍.
    const at = new Set(ends || []);
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 13) out += '<span class="esc">\\\\r</span>';
      else if (c === 10) out += '<span class="esc">\\\\n</span>';
      else if (c >= 32 && c < 127) out += esc(s[i]);
      else out += '<span class="esc">\\\\x' + c.toString(16).padStart(2, '0') + '</span>';
      if (at.has(i + 1)) out += '<span class="end" title="a request ends here">▍</span>';
    }
    return out;
  }

  function setStatus() {
    const st = $('status');
    st.className = mode === 'replay' ? 'replay' : paused ? 'paused' : 'running';
    st.textContent = mode === 'replay' ? 'replay: ' + records.length + ' iterations recorded'
      : paused ? 'paused before iteration #' + pausedAt : 'running';
    $('live-controls').style.display = mode === 'replay' ? 'none' : '';
    $('step').disabled = false;
    $('pause').disabled = paused;
    $('continue').disabled = !paused;
  }

  /** Connection state after record k: the last record that touched each fd, until it closed. */
  function connsAt(k) {
    const m = new Map();
    for (let i = 0; i <= k; i++) for (const c of records[i].connections) {
      if (c.closed) m.delete(c.fd); else m.set(c.fd, { rec: c, iteration: records[i].iteration, now: i === k });
    }
    return m;
  }

  function render() {
    $('position').textContent = records.length === 0 ? '–' : (shown + 1) + ' / ' + records.length;
    $('back').disabled = shown <= 0;
    $('forward').disabled = shown >= records.length - 1;
    if (shown < 0) return;
    const r = records[shown];
    $('iteration').textContent = 'iteration #' + r.iteration + ' · ' + r.backend;
    $('iteration').dataset.iteration = r.iteration;
    $('timeout').textContent = r.timeout ? 'timeout ' + r.timeout.ms + ' ms — ' + r.timeout.why : '';
    const tb = $('interest').querySelector('tbody');
    let rows = '';
    const i = r.interest;
    if (i && i.poll) {
      $('interest-title').textContent = 'interest set: the pollfd array built for this poll()';
      for (const e of i.poll) rows += '<tr class="' + (e.revents && e.revents.length ? 'ready' : '') + '" data-fd="' + e.fd + '"><td>' + e.fd + '</td><td>' + esc(e.label || '') + '</td><td>' + e.events.join('|') + '</td><td>' + (e.revents || []).join('|') + '</td></tr>';
      $('changes').textContent = '';
    } else if (i && i.ready) {
      $('interest-title').textContent = 'epoll_wait: the ready list (the interest list lives in the kernel)';
      for (const e of i.ready) rows += '<tr class="ready" data-fd="' + e.fd + '"><td>' + e.fd + '</td><td>' + esc(e.label || '') + '</td><td>' + e.events.join('|') + '</td><td>' + (e.revents || e.events).join('|') + '</td></tr>';
      $('changes').innerHTML = i.changes.length ? '<h3>epoll_ctl changes this iteration</h3>' + i.changes.map((c) => esc('epoll_ctl(' + c.op + ', ' + c.fd + ', ' + c.events.join('|') + ') = ' + c.ret)).join('<br>') : '';
    } else {
      $('interest-title').textContent = 'interest set';
      $('changes').textContent = '';
    }
    tb.innerHTML = rows;
    $('syscalls').innerHTML = r.syscalls.map((s) => '<li class="' + (s.ret === -1 ? 'fail' : '') + '">' + esc(s.name + '(' + s.args + ') = ' + s.result) + '</li>').join('');
    $('notes').textContent = r.notes.join('\\n');
    $('timers').textContent = (r.timers.length ? 'timers fired: ' + r.timers.join(', ') : '') + (r.keysExpired ? '  keys expired: ' + r.keysExpired : '');
    const conns = connsAt(shown);
    $('conn-count').textContent = '(' + conns.size + ' open)';
    let html = '';
    for (const [fd, { rec: c, iteration, now }] of [...conns].sort((a, b) => a[0] - b[0])) {
      const inc = c.incoming, out = c.outgoing;
      html += '<div class="conn" data-fd="' + fd + '"><h4>fd ' + fd + ' · ' + esc(c.label || '') + '</h4>'
        + '<span class="flag ' + (c.wantRead ? 'on' : '') + '">want_read</span>'
        + '<span class="flag ' + (c.wantWrite ? 'on' : '') + '">want_write</span>'
        + '<span class="flag ' + (c.wantClose ? 'on' : '') + '">want_close</span>'
        + (now ? '' : ' <span class="muted">(as of iteration #' + iteration + ')</span>')
        + '<div class="muted">incoming: read ' + inc.read + ' B, parsed ' + inc.parsed + ' B into ' + inc.frames.length + ' request(s), ' + inc.unparsed + ' B unparsed</div>'
        + (c.readBytes !== undefined ? '<div class="bytes in" title="bytes read (▍ = a request ends)">' + showBytes(c.readBytes, inc.frames) + '</div>' : '')
        + '<div class="muted">outgoing: wrote ' + out.written + ' B, ' + out.pending + ' B pending</div>'
        + (c.wroteBytes !== undefined ? '<div class="bytes out" title="bytes written">' + showBytes(c.wroteBytes, []) + '</div>' : '')
        + (c.idleDeadline !== null && c.idleDeadline !== undefined ? '<div class="muted">idle deadline: ' + c.idleDeadline.toFixed(0) + ' ms (monotonic)</div>' : '')
        + '</div>';
    }
    $('conns').innerHTML = html || '<p class="muted">No open connection.</p>';
  }

  function add(rec) {
    records.push(rec);
    if (records.length > MAX) { records.shift(); if (!follow) shown = Math.max(0, shown - 1); }
    if (follow) shown = records.length - 1;
    render();
  }

  const post = (what) => fetch(what, { method: 'POST' }); // relative: the page may sit under /a/ (redloop-replay A B)
  $('pause').onclick = () => post('pause');
  $('step').onclick = () => post('step');
  $('continue').onclick = () => post('continue');
  $('back').onclick = () => { if (shown > 0) { shown--; follow = false; render(); } };
  $('forward').onclick = () => { if (shown < records.length - 1) { shown++; follow = shown === records.length - 1 && mode === 'live'; render(); } };
  $('latest').onclick = () => { follow = true; shown = records.length - 1; render(); };

  const es = new EventSource('events');
  es.addEventListener('hello', (e) => {
    const h = JSON.parse(e.data);
    mode = h.mode; paused = !!h.paused; pausedAt = h.iteration;
    if (mode === 'replay') follow = false;
    if (h.title) { document.title = h.title + ' — redloop'; document.querySelector('h1').textContent = h.title; }
    records.length = 0; shown = -1;
    if (h.last) add(h.last);
    setStatus();
  });
  es.addEventListener('iteration', (e) => { add(JSON.parse(e.data)); if (mode === 'replay') { if (shown < 0) shown = 0; setStatus(); render(); } });
  es.addEventListener('paused', (e) => { paused = true; pausedAt = JSON.parse(e.data).iteration; setStatus(); });
  es.addEventListener('running', () => { paused = false; setStatus(); });
  es.addEventListener('end', () => es.close());
  es.onerror = () => { if (mode === 'live') $('status').textContent = 'disconnected (the server stopped?)'; };
})();
</script>
</body>
</html>
`;
