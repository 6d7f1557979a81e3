// Live updates: progress bar and new tracks from /api/events (Server-Sent Events).
// Tag text is untrusted: it is only ever set with textContent, never as HTML.
(function () {
  "use strict";
  const progress = document.getElementById("progress");
  const table = document.getElementById("tracks");
  let refreshTimer = null;

  function duration(s) {
    if (!s) return "";
    s = Math.round(s);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function row(t) {
    const tr = document.createElement("tr");
    tr.dataset.id = t.id;
    const d = t.display || t;  // what the library shows: the user's edits, then metadata_prefer's order
    const cells = [d.track_number || "", null, d.artist_name || "", d.album_title || "", d.year || "", d.genre || "", duration(t.duration)];
    cells.forEach(function (value, i) {
      const td = document.createElement("td");
      if (i === 1) {
        const a = document.createElement("a");
        a.href = "/tracks/" + encodeURIComponent(t.id);
        a.textContent = d.title || "";
        td.appendChild(a);
      } else {
        td.textContent = value;
      }
      tr.appendChild(td);
    });
    return tr;
  }

  async function refresh() {
    refreshTimer = null;
    if (!table) return;
    const offset = table.dataset.offset || 0, limit = table.dataset.limit || 100;
    const response = await fetch("/api/tracks?sort=artist&limit=" + limit + "&offset=" + offset);
    if (!response.ok) return;
    const page = await response.json();
    const body = table.tBodies[0];
    const known = new Set(Array.from(body.rows, function (r) { return r.dataset.id; }));
    const fresh = document.createDocumentFragment();
    body.replaceChildren.apply(body, page.items.map(function (t) {
      const tr = row(t);
      if (!known.has(String(t.id))) tr.className = "fresh";
      return tr;
    }));
    const count = document.getElementById("count-tracks");
    if (count) count.textContent = page.total;
    const empty = document.getElementById("empty");
    if (empty && page.total) empty.hidden = true;
  }

  function scheduleRefresh() {
    if (!refreshTimer) refreshTimer = setTimeout(refresh, 400);
  }

  function showProgress(e) {
    if (!progress) return;
    progress.hidden = false;
    progress.querySelector(".bar").style.width = (e.percent || 0) + "%";
    progress.querySelector(".label").textContent = (e.step || "") + " " + e.current + "/" + e.total;
    if (e.percent >= 100) setTimeout(function () { progress.hidden = true; }, 1500);
  }

  const source = new EventSource("/api/events");
  source.onmessage = function (message) {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    if (event.type === "progress") showProgress(event);
    else if (event.type && event.type.indexOf("track.") === 0) scheduleRefresh();
  };
})();
