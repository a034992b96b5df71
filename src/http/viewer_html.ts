/**
 * The viewer page served at `/`, inlined so it travels inside the compiled binary.
 *
 * Everything the page needs is in this one string: no external scripts, styles or fonts, so it
 * works offline, on a LAN without internet, and from a `deno compile` binary. Every URL in it
 * is relative (`stream`, `state`, …) so the page also works behind a reverse proxy that serves
 * tuchuan under a sub-path, and a `?token=` on the page URL is carried to every request, because
 * an `<img src>` cannot send an `Authorization` header.
 *
 * Behaviour worth knowing when editing it:
 * - The status bar polls `state` once a second (a `setTimeout` chain, so a slow server never
 *   gets overlapping polls).
 * - Reconnect: Chromium fires no event when a multipart stream ends cleanly (the server sends
 *   the closing boundary on shutdown) and fires `error` only when a request fails, so the page
 *   reconnects on `error` (backoff 0.5 s doubling to 10 s), when `state` answers again after
 *   failing, and when `state.uptime` goes backwards (the server restarted between two polls).
 *   A reconnect loads the stream into a fresh `<img>` and swaps it in on its first frame, so
 *   the last picture stays on screen until the new one is ready.
 * - No template literals in the script: this file is itself a template literal.
 *
 * @module
 */

/** The viewer page. */
export const VIEWER_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>tuchuan</title>
<style>
:root{--bg:#0e1014;--panel:#171a21;--line:#272c37;--fg:#e7e9ee;--dim:#98a1b0;
  --ok:#3ecf7a;--warn:#f2b544;--bad:#ff6161;--accent:#5aa8ff}
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{background:var(--bg);color:var(--fg);display:flex;flex-direction:column;min-height:100vh;
  font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{display:flex;align-items:center;gap:.4rem 1rem;flex-wrap:wrap;padding:.55rem .8rem;
  background:var(--panel);border-bottom:1px solid var(--line)}
h1{margin:0;font-size:1rem;font-weight:650;letter-spacing:.03em}
#status{display:flex;flex-wrap:wrap;gap:.2rem .9rem;margin:0;padding:0;list-style:none;
  color:var(--dim);font-size:.875rem;font-variant-numeric:tabular-nums}
#status b{color:var(--fg);font-weight:600}
#st-online::before{content:"";display:inline-block;width:.6em;height:.6em;border-radius:50%;
  margin-right:.4em;background:var(--dim);vertical-align:.05em}
#st-online[data-state=live]::before{background:var(--ok)}
#st-online[data-state=paused]::before{background:var(--warn)}
#st-online[data-state=offline]::before,#st-online[data-state=lost]::before{background:var(--bad)}
main{flex:1;display:flex;align-items:center;justify-content:center;padding:.6rem;min-height:0}
#view{position:relative;display:flex;align-items:center;justify-content:center;max-width:100%;
  min-width:min(320px,100%);min-height:180px;background:#000;border-radius:.4rem;overflow:hidden}
#stream{display:block;max-width:100%;max-height:calc(100vh - 9rem);height:auto}
#view:fullscreen{width:100vw;height:100vh;border-radius:0}
#view:fullscreen #stream{width:100vw;height:100vh;max-height:none;object-fit:contain}
#notice{position:absolute;left:50%;top:50%;transform:translate(-50%,-50%);margin:0;
  padding:.45rem .8rem;border-radius:.4rem;background:rgba(0,0,0,.7);color:var(--fg);
  font-size:.9rem;white-space:nowrap}
#notice[hidden]{display:none}
/* In fullscreen only the picture is on screen, so it carries its own way out (no Esc on phones). */
#fs-exit{display:none;position:absolute;top:.6rem;right:.6rem;min-width:0;
  background:rgba(20,22,28,.75)}
#view:fullscreen #fs-exit{display:inline-flex}
#view:-webkit-full-screen #fs-exit{display:inline-flex}
nav{display:flex;gap:.5rem;flex-wrap:wrap;justify-content:center;padding:0 .6rem .8rem}
button,.btn{display:inline-flex;align-items:center;justify-content:center;min-height:2.6rem;
  min-width:5.5rem;padding:.5rem .95rem;border:1px solid var(--line);border-radius:.5rem;
  background:#222733;color:var(--fg);font:inherit;text-decoration:none;cursor:pointer;
  -webkit-tap-highlight-color:transparent}
button:hover,.btn:hover{border-color:#3a4252;background:#2a303d}
button:focus-visible,.btn:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
button:disabled{opacity:.55;cursor:default}
#pause[aria-pressed=true]{border-color:var(--warn);color:var(--warn)}
@media (max-width:480px){body{font-size:14px}main{padding:.3rem}
  main{flex:0 0 auto}#stream{max-height:calc(100vh - 11rem)}button,.btn{flex:1 1 40%}}
</style>
</head>
<body>
<header>
  <h1>tuchuan</h1>
  <ul id="status" aria-live="polite">
    <li id="st-online" data-state="connecting">Connecting…</li>
    <li><b id="st-fps">–</b> fps</li>
    <li id="st-res">–</li>
    <li id="st-clients">– viewers</li>
  </ul>
</header>
<main>
  <div id="view">
    <img id="stream" src="stream" alt="live camera stream">
    <p id="notice" hidden></p>
    <button id="fs-exit" type="button">Exit fullscreen</button>
  </div>
</main>
<nav>
  <button id="pause" type="button" aria-pressed="false">Pause</button>
  <a id="snap-png" class="btn" href="snapshot.png" download="snapshot.png">Save PNG</a>
  <a id="snap-jpg" class="btn" href="snapshot.jpg" download="snapshot.jpg">Save JPEG</a>
  <button id="fullscreen" type="button">Fullscreen</button>
</nav>
<script>
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token");

  // A relative URL (works under a proxy sub-path) carrying the page's ?token=.
  function url(path, extra) {
    var q = new URLSearchParams();
    if (extra) for (var k in extra) q.set(k, extra[k]);
    if (token) q.set("token", token);
    var s = q.toString();
    return s ? path + "?" + s : path;
  }
  function $(id) { return document.getElementById(id); }

  var img = $("stream");
  var notice = $("notice");
  var pauseBtn = $("pause");

  // ---- stream and reconnect ----------------------------------------------------------------
  var delay = 500;            // next reconnect delay; doubles to 10 s, reset by a frame
  var retryTimer = 0;
  var pending = null;         // the <img> being connected, swapped in on its first frame
  var lost = false;           // the server stopped answering

  function say(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function watch(el) {
    el.addEventListener("load", function () {
      // "load" fires on the first part of a multipart stream: the connection works.
      delay = 500;
      if (!lost) say("");
    });
    el.addEventListener("error", function () {
      if (el === img) scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (retryTimer || pending) return;
    say("Reconnecting…");
    retryTimer = setTimeout(reconnect, delay);
    delay = Math.min(delay * 2, 10000);
  }

  function reconnect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (pending) { pending.src = ""; pending = null; }
    var next = new Image();
    next.alt = img.alt;
    pending = next;
    next.addEventListener("load", function () {
      if (pending !== next) return;
      pending = null;
      next.id = "stream";
      watch(next);
      var old = img;
      img = next;
      old.replaceWith(next);
      old.removeAttribute("src"); // closes the old connection, if it still had one
      delay = 500;
      if (!lost) say("");
    }, { once: true });
    next.addEventListener("error", function () {
      if (pending !== next) return;
      pending = null;
      scheduleReconnect();
    }, { once: true });
    // A fresh URL each time so no cache or in-flight request is reused.
    next.src = url("stream", { _: Date.now().toString(36) });
  }

  watch(img);
  // The markup's src="stream" lets the page work without script; with a token it needs one.
  if (token) img.src = url("stream");

  // ---- status bar --------------------------------------------------------------------------
  var lastUptime = -1;

  function show(s) {
    var online = $("st-online");
    var state, text;
    if (s.paused) { state = "paused"; text = "Paused"; }
    else if (s.source && s.source.online === false) {
      state = "offline";
      text = "Offline" + (s.source.reason ? ": " + s.source.reason : "");
    } else { state = "live"; text = "Live"; }
    online.dataset.state = state;
    online.textContent = text;
    online.title = text;
    $("st-fps").textContent = s.paused ? "0" : (Number(s.fps) || 0).toFixed(1);
    $("st-res").textContent = s.width && s.height ? s.width + "×" + s.height : "–";
    var n = Number(s.clients) || 0;
    $("st-clients").textContent = n + (n === 1 ? " viewer" : " viewers");
    pauseBtn.textContent = s.paused ? "Resume" : "Pause";
    pauseBtn.setAttribute("aria-pressed", s.paused ? "true" : "false");
  }

  function poll() {
    var ac = new AbortController();
    var t = setTimeout(function () { ac.abort(); }, 4000);
    fetch(url("state"), { cache: "no-store", signal: ac.signal })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status === 401 ? "Not authorised (add ?token=)" : "HTTP " + r.status);
        return r.json();
      })
      .then(function (s) {
        var restarted = typeof s.uptime === "number" && s.uptime < lastUptime;
        lastUptime = typeof s.uptime === "number" ? s.uptime : lastUptime;
        show(s);
        if (lost || restarted) {
          // The server is back (or is a new process): its old stream ended without an event.
          lost = false;
          say("");
          delay = 500;
          reconnect();
        }
      })
      .catch(function (err) {
        lost = true;
        var online = $("st-online");
        online.dataset.state = "lost";
        var denied = /^Not authorised/.test(err && err.message);
        online.textContent = denied ? err.message : "Disconnected";
        // Figures from a server that is not answering would be stale: blank them.
        $("st-fps").textContent = "–";
        $("st-clients").textContent = "– viewers";
        say(denied ? "" : "Server not reachable, retrying…");
      })
      .finally(function () {
        clearTimeout(t);
        setTimeout(poll, 1000);
      });
  }
  poll();

  // ---- controls ----------------------------------------------------------------------------
  pauseBtn.addEventListener("click", function () {
    var resume = pauseBtn.getAttribute("aria-pressed") === "true";
    pauseBtn.disabled = true;
    fetch(url(resume ? "resume" : "pause"), { method: "POST", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        pauseBtn.textContent = s.paused ? "Resume" : "Pause";
        pauseBtn.setAttribute("aria-pressed", s.paused ? "true" : "false");
      })
      .catch(function () {})
      .finally(function () { pauseBtn.disabled = false; });
  });

  function stamp() {
    var d = new Date();
    function p(n) { return String(n).padStart(2, "0"); }
    return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + "-" +
      p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds());
  }
  [["snap-png", "snapshot.png", "png"], ["snap-jpg", "snapshot.jpg", "jpg"]].forEach(function (s) {
    var a = $(s[0]);
    a.href = url(s[1]);
    // Set at click time: a fresh cache-buster and a file name with the time of the picture.
    a.addEventListener("click", function () {
      a.href = url(s[1], { _: Date.now().toString(36) });
      a.download = "tuchuan-" + stamp() + "." + s[2];
    });
  });

  var view = $("view");
  var fsBtn = $("fullscreen");
  var enter = view.requestFullscreen || view.webkitRequestFullscreen;
  var exit = document.exitFullscreen || document.webkitExitFullscreen;
  function fsElement() { return document.fullscreenElement || document.webkitFullscreenElement; }
  function toggleFullscreen() {
    if (fsElement()) exit.call(document);
    else {
      var r = enter.call(view);
      if (r && r.catch) r.catch(function () {});
    }
  }
  if (enter) {
    fsBtn.addEventListener("click", toggleFullscreen);
    $("fs-exit").addEventListener("click", toggleFullscreen);
    view.addEventListener("dblclick", toggleFullscreen);
  } else {
    fsBtn.hidden = true; // iPhone Safari: no element fullscreen
  }
})();
</script>
</body>
</html>
`;
