/**
 * The page at `/` when several cameras are served: each camera's live picture (its stream at 2
 * fps, so a grid of cameras costs little) with its name and state, linking to its own viewer
 * page. Like the viewer page it has no external assets and carries `?token=` along.
 *
 * @module
 */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The camera list page for `names` (already restricted to URL-safe characters). */
export function indexHtml(names: readonly string[]): string {
  const tiles = names.map((n) => {
    const name = escapeHtml(n);
    return `<a class="tile" href="${name}/" data-camera="${name}">
  <img src="${name}/stream?fps=2" alt="${name}, live" loading="lazy">
  <span class="label"><b>${name}</b> <span class="state" id="st-${name}">…</span></span>
</a>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>tuchuan — cameras</title>
<style>
body{margin:0;background:#0e1014;color:#e7e9ee;font:15px/1.4 system-ui,sans-serif}
header{padding:.6rem .9rem;background:#171a21;border-bottom:1px solid #272c37}
h1{margin:0;font-size:1rem}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:.8rem;padding:.8rem}
.tile{display:block;background:#000;border-radius:.4rem;overflow:hidden;color:inherit;text-decoration:none;
  border:1px solid #272c37}
.tile:hover{border-color:#5aa8ff}
.tile img{display:block;width:100%;aspect-ratio:4/3;object-fit:contain;background:#000}
.label{display:flex;justify-content:space-between;padding:.4rem .6rem;background:#171a21}
.state{color:#98a1b0}
</style>
</head>
<body>
<header><h1>tuchuan — ${names.length} cameras</h1></header>
<main>
${tiles}
</main>
<script>
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token");
  function withToken(u) { return token ? u + (u.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(token) : u; }
  var tiles = document.querySelectorAll(".tile");
  tiles.forEach(function (t) {
    var img = t.querySelector("img");
    if (token) { img.src = withToken(img.getAttribute("src")); t.href = withToken(t.getAttribute("href")); }
    // A failed stream (server restart, 503) is tried again a few seconds later.
    img.addEventListener("error", function () {
      setTimeout(function () { img.src = withToken(t.dataset.camera + "/stream?fps=2&_=" + Date.now()); }, 3000);
    });
  });
  function poll() {
    fetch(withToken("state"), { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      (s.cameras || []).forEach(function (c) {
        var el = document.getElementById("st-" + c.name);
        if (!el) return;
        el.textContent = c.paused ? "paused" : c.source.online ? (c.width + "×" + c.height + ", " + c.fps.toFixed(1) + " fps") :
          c.source.running ? "offline" : "idle";
      });
    }).catch(function () {}).finally(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
</script>
</body>
</html>
`;
}
