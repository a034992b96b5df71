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
 * - Camera controls: the page asks `controls` once (and again when the server comes back); a
 *   200 with a list shows the "Camera controls" panel (sliders and number boxes for integers,
 *   checkboxes, menus, buttons), a 404 (the source has no controls) leaves it hidden. Each change
 *   POSTs `{"NAME": value}` and shows the camera's answer, then the list is read again, as
 *   setting one control can change others (an automatic mode makes its manual value inactive).
 *   Inactive and read-only controls are shown but disabled, as qv4l2 does. Built with DOM calls
 *   (`textContent`), never HTML strings: control names and menu labels come from the camera.
 * - No template literals in the script, and no backslashes: this file is itself a template
 *   literal, which would turn them into something else.
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
#controls{width:min(46rem,calc(100% - 1.2rem));margin:0 auto .9rem;background:var(--panel);
  border:1px solid var(--line);border-radius:.5rem}
#controls[hidden]{display:none}
#controls>summary{cursor:pointer;padding:.6rem .8rem;font-weight:600}
#controls>summary:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
#ctl-list{margin:0;padding:0 .8rem}
#ctl-list fieldset{margin:0;padding:.35rem 0 .5rem;border:0;border-top:1px solid var(--line)}
#ctl-list legend{padding:.3rem 0 0;color:var(--dim);font-size:.78rem;letter-spacing:.05em;
  text-transform:uppercase}
.ctl{display:grid;grid-template-columns:minmax(8rem,1fr) minmax(6rem,2fr) 6.5rem;gap:.3rem .7rem;
  align-items:center;min-height:2.6rem}
.ctl>label{overflow-wrap:anywhere}
.ctl .note{display:block;color:var(--dim);font-size:.78rem}
.ctl[data-off]>label{color:var(--dim)}
.ctl input[type=range]{width:100%;margin:0;accent-color:var(--accent)}
.ctl input[type=checkbox]{justify-self:start;width:1.35rem;height:1.35rem;margin:0;
  accent-color:var(--accent)}
.ctl input[type=number],.ctl select{min-height:2.2rem;padding:.25rem .45rem;font:inherit;
  color:var(--fg);background:#222733;border:1px solid var(--line);border-radius:.4rem}
.ctl input[type=number]{width:100%;font-variant-numeric:tabular-nums}
.ctl select{grid-column:2/4}
.ctl>button{grid-column:1/-1;justify-self:start}
.ctl [aria-invalid=true]{border-color:var(--bad);outline:1px solid var(--bad)}
#ctl-result{margin:0;padding:.45rem .8rem .7rem;min-height:1.4em;color:var(--dim);
  font-size:.875rem}
#ctl-result[data-state=ok]{color:var(--ok)}
#ctl-result[data-state=bad]{color:var(--bad)}
@media (max-width:480px){body{font-size:14px}main{padding:.3rem}
  main{flex:0 0 auto}#stream{max-height:calc(100vh - 11rem)}nav button,nav .btn{flex:1 1 40%}
  .ctl{grid-template-columns:1fr 5.5rem}.ctl input[type=range]{grid-column:1/-1;grid-row:2}
  .ctl select{grid-column:2}}
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
<details id="controls" hidden>
  <summary>Camera controls</summary>
  <form id="ctl-list" autocomplete="off"></form>
  <p id="ctl-result" role="status" aria-live="polite"></p>
</details>
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
          loadControls(); // a new process may have another camera, or none with controls
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

  // ---- camera controls panel ---------------------------------------------------------------
  var ctlPanel = $("controls");
  var ctlList = $("ctl-list");
  var ctlResult = $("ctl-result");
  var ctlShape = "";          // names and types shown: the panel is rebuilt only when they change
  var ctls = {};              // name -> { desc, row, inputs, show(desc) }

  function labelOf(name) {
    var words = String(name).split("_").join(" ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // A value as the user knows it: "on" for a checkbox, a menu entry's label, else the number.
  function shown(name, value) {
    var d = ctls[name] && ctls[name].desc;
    if (value === null || value === undefined) return "?";
    if (d && d.type === "bool") return Number(value) ? "on" : "off";
    if (d && d.menu) {
      for (var i = 0; i < d.menu.length; i++) {
        if (d.menu[i].value === Number(value)) return d.menu[i].label;
      }
    }
    return String(value);
  }

  function tell(text, state) {
    ctlResult.textContent = text;
    ctlResult.dataset.state = state || "";
  }

  function loadControls() {
    fetch(url("controls"), { cache: "no-store" })
      .then(function (r) {
        if (r.status === 404) return null; // this source has no controls (not a V4L2 camera)
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (body) {
        var list = body && Array.isArray(body.controls) ? body.controls : [];
        if (!list.length) { ctlPanel.hidden = true; return; }
        renderControls(list);
        ctlPanel.hidden = false;
      })
      // A camera unplugged for a moment (503): keep what is shown; the next answer updates it.
      .catch(function () {});
  }

  function renderControls(list) {
    var shape = list.map(function (c) { return c.name + ":" + c.type; }).join(",");
    if (shape !== ctlShape) {
      ctlShape = shape;
      ctls = {};
      ctlList.textContent = "";
      var groups = {};
      list.forEach(function (c) {
        var key = c.group || "Controls";
        if (!groups[key]) {
          groups[key] = document.createElement("fieldset");
          var legend = document.createElement("legend");
          legend.textContent = key;
          groups[key].append(legend);
          ctlList.append(groups[key]);
        }
        groups[key].append(makeControl(c));
      });
    }
    list.forEach(function (c) { if (ctls[c.name]) ctls[c.name].show(c); });
  }

  function makeControl(c) {
    var row = document.createElement("div");
    row.className = "ctl";
    row.dataset.name = c.name;
    var id = "ctl-" + c.name;
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelOf(c.name);
    var note = document.createElement("span");
    note.className = "note";
    label.append(note);
    var inputs = [];
    var setValue = function () {};
    var entry = { desc: c, row: row, inputs: inputs };

    if (c.type === "button") {
      var press = document.createElement("button");
      press.type = "button";
      press.id = id;
      press.textContent = labelOf(c.name);
      press.addEventListener("click", function () { setControl(c.name, 1); });
      inputs.push(press);
      row.append(press);
    } else if (c.type === "bool") {
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = id;
      box.addEventListener("change", function () { setControl(c.name, box.checked); });
      inputs.push(box);
      row.append(label, box);
      setValue = function (v) { box.checked = Number(v) !== 0; };
    } else if (c.type === "menu" || c.type === "intmenu") {
      var select = document.createElement("select");
      select.id = id;
      (c.menu || []).forEach(function (m) {
        var option = document.createElement("option");
        option.value = String(m.value);
        option.textContent = m.label;
        select.append(option);
      });
      select.addEventListener("change", function () { setControl(c.name, Number(select.value)); });
      inputs.push(select);
      row.append(label, select);
      setValue = function (v) { select.value = String(v); };
    } else {
      // int and int64: a number box, with a slider beside it when the range is known.
      var num = document.createElement("input");
      num.type = "number";
      num.inputMode = "numeric";
      var slider = null;
      if (c.type === "int" && isFinite(c.min) && isFinite(c.max) && c.max > c.min) {
        slider = document.createElement("input");
        slider.type = "range";
        slider.id = id;
        num.id = id + "-value";
        num.setAttribute("aria-label", labelOf(c.name) + " value");
      } else {
        num.id = id;
      }
      [num, slider].forEach(function (el) {
        if (!el) return;
        if (isFinite(c.min)) el.min = String(c.min);
        if (isFinite(c.max)) el.max = String(c.max);
        el.step = String(c.step > 0 ? c.step : 1);
        inputs.push(el);
      });
      if (slider) {
        // While dragging only the number follows; the camera is asked once, on release.
        slider.addEventListener("input", function () { num.value = slider.value; });
        slider.addEventListener("change", function () { setControl(c.name, Number(slider.value)); });
        row.append(label, slider, num);
      } else {
        row.append(label, num);
      }
      num.addEventListener("change", function () {
        if (num.value === "") return;
        if (slider) slider.value = num.value;
        setControl(c.name, Number(num.value));
      });
      setValue = function (v) {
        num.value = String(v);
        if (slider) slider.value = String(v);
      };
    }
    var range = [];
    if (isFinite(c.min) && isFinite(c.max)) range.push(c.min + " to " + c.max);
    if (c.default !== undefined) range.push("default " + shown(c.name, c.default));
    row.title = range.join(", ");

    entry.show = function (d) {
      entry.desc = d;
      if (d.value !== undefined && d.type !== "button") setValue(d.value);
      var off = d.readOnly || d.inactive;
      inputs.forEach(function (el) { el.disabled = !!off; });
      if (off) row.dataset.off = "";
      else delete row.dataset.off;
      // Inactive: another control (an automatic mode) governs it for now.
      note.textContent = d.readOnly ? "read-only" : d.inactive ? "inactive" : "";
    };
    ctls[c.name] = entry;
    return row;
  }

  function markInvalid(name) {
    Object.keys(ctls).forEach(function (k) {
      ctls[k].inputs.forEach(function (el) {
        if (k === name) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
      });
    });
  }

  function setControl(name, value) {
    var body = {};
    body[name] = value;
    tell("Setting " + labelOf(name) + "…", "");
    fetch(url("controls"), {
      method: "POST",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (r) {
        return r.json().then(
          function (b) { return { status: r.status, body: b || {} }; },
          function () { return { status: r.status, body: {} }; });
      })
      .then(function (answer) {
        var b = answer.body;
        if (Array.isArray(b.controls)) {
          // 200, or 502 when the camera refused one: what each control is now.
          var bad = "";
          var lines = b.controls.map(function (c) {
            var what = labelOf(c.name);
            if (c.error) {
              bad = bad || c.name;
              return what + ": the camera refused " + shown(c.name, c.asked) + " (" + c.error + ")";
            }
            var d = ctls[c.name] && ctls[c.name].desc;
            if (d && d.type === "button") return what + ": pressed";
            if (c.value === null || c.value === undefined) {
              return what + ": set to " + shown(c.name, c.asked) + " (not read back)";
            }
            if (c.value !== c.asked) {
              return what + ": asked " + shown(c.name, c.asked) + ", the camera set " +
                shown(c.name, c.value);
            }
            return what + ": " + shown(c.name, c.value);
          });
          markInvalid(bad);
          tell(lines.join("; "), bad || answer.status !== 200 ? "bad" : "ok");
        } else {
          // 400 {error, param}: nothing was changed. 401, 403, 503: the reason.
          markInvalid(b.param || "");
          tell(b.error || "HTTP " + answer.status, "bad");
        }
      })
      .catch(function () { tell(labelOf(name) + " not set: the server did not answer", "bad"); })
      // The camera's values now (refused or clamped values, inactive flags that changed).
      .finally(loadControls);
  }

  ctlList.addEventListener("submit", function (e) { e.preventDefault(); }); // Enter in a box
  loadControls();

  // ---- buttons -----------------------------------------------------------------------------
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
