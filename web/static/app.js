// SoniqueBay's pages, progressively enhanced. Without this file every link and form works.
// With it: links and forms load in place (the player keeps playing), the search box suggests
// as you type, and pages refresh their live parts when the library changes (Server-Sent Events).
// Tag text is untrusted: it is only ever set with textContent; HTML comes only from our own
// server-rendered (autoescaped) pages, parsed with DOMParser (scripts in it never run).
(function () {
  "use strict";
  const csrf = () => (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  window.SoniqueBay = window.SoniqueBay || {};
  SoniqueBay.csrf = csrf;

  // ------------------------------------------------------------ loading pages in place
  function sameSite(url) {
    return url.origin === location.origin && !url.pathname.startsWith("/api/") &&
      !url.pathname.startsWith("/static/") && url.pathname !== "/login" && url.pathname !== "/metrics";
  }

  async function load(url, options, push) {
    let response;
    try {
      response = await fetch(url, Object.assign({ headers: { Accept: "text/html" }, credentials: "same-origin" }, options || {}));
    } catch (_) {
      location.href = url;  // offline or refused: let the browser say so
      return;
    }
    const final = new URL(response.url);
    const type = response.headers.get("Content-Type") || "";
    if (!type.startsWith("text/html") || final.pathname === "/login") {
      location.href = response.url;
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const main = doc.getElementById("main");
    if (!main) { location.href = response.url; return; }
    // A change that comes back to this very page (a playlist reordered, a star): stay where
    // you were, and keep the keyboard on the same control.
    const samePage = options && options.method === "POST" && final.pathname === location.pathname;
    const y = window.scrollY;
    const focused = document.activeElement && document.activeElement.getAttribute("aria-label");
    document.getElementById("main").replaceWith(main);
    if (samePage) {
      push = false;
      window.scrollTo(0, y);
      let again = focused && main.querySelector('[aria-label="' + CSS.escape(focused) + '"]');
      if (again && again.disabled) {  // a ↓ at the bottom now: its ↑ neighbour
        const group = again.closest("form") ? again.closest("form").parentElement : again.parentElement;
        again = group.querySelector("button:not([disabled])");
      }
      if (again) again.focus({ preventScroll: true });
    }
    document.title = doc.title;
    const meta = doc.querySelector("meta[name=csrf-token]");
    if (meta) document.querySelector("meta[name=csrf-token]").content = meta.content;
    document.querySelectorAll("header nav a").forEach(function (a) {
      const here = a.getAttribute("href") === final.pathname ||
        (a.getAttribute("href") !== "/" && final.pathname.startsWith(a.getAttribute("href") + "/"));
      if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    if (push) history.pushState({}, "", final.pathname + final.search + final.hash);
    else if (final.href !== location.href) history.replaceState({}, "", final.pathname + final.search);
    const menu = document.getElementById("menu-toggle");
    if (menu) menu.checked = false;
    if (push) { window.scrollTo(0, 0); main.focus({ preventScroll: true }); }
    document.dispatchEvent(new CustomEvent("soniquebay:page"));
  }
  SoniqueBay.load = load;

  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (!sameSite(url) || (url.pathname === location.pathname && url.search === location.search && url.hash)) return;
    e.preventDefault();
    load(url.href, null, true);
  });

  // A destructive form asks first (without script, the server shows a page that asks).
  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (!form.dataset.confirm || e.defaultPrevented) return;
    if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (!form.querySelector("input[name=confirmed]")) {
      const yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirmed"; yes.value = "yes";
      form.appendChild(yes);
    }
  }, true);

  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (e.defaultPrevented || form.hasAttribute("data-reload")) return;
    const url = new URL(form.getAttribute("action") || location.href, location.href);
    if (!sameSite(url)) return;
    e.preventDefault();
    const method = (form.getAttribute("method") || "get").toLowerCase();
    const data = new FormData(form, e.submitter);
    if (method === "get") {
      url.search = new URLSearchParams(data).toString();
      load(url.href, null, true);
    } else {
      load(url.href, { method: "POST", body: new URLSearchParams(data) }, true);
    }
  });

  // A playlist's rows move by drag and drop too: the drop posts the same form as ↑ and ↓.
  let dragged = null;
  document.addEventListener("dragstart", function (e) {
    const li = e.target.closest && e.target.closest("ol.playlist-tracks > li[data-position]");
    if (!li) return;
    dragged = li;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.dataset.position);
    li.classList.add("dragging");
  });
  document.addEventListener("dragend", function () { if (dragged) dragged.classList.remove("dragging"); dragged = null; });
  document.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest && e.target.closest("ol.playlist-tracks > li")) e.preventDefault();
  });
  document.addEventListener("drop", function (e) {
    const target = e.target.closest && e.target.closest("ol.playlist-tracks > li[data-position]");
    if (!dragged || !target || target === dragged) return;
    e.preventDefault();
    const list = target.closest("ol.playlist-tracks");
    const body = new URLSearchParams({
      csrf_token: document.querySelector("meta[name=csrf-token]").content,
      position: dragged.dataset.position, to: target.dataset.position,
    });
    load(list.dataset.moveUrl, { method: "POST", body: body }, true);
  });

  // Filters apply as soon as one changes (the button stays for keyboards and no-script).
  document.addEventListener("change", function (e) {
    const form = e.target.closest("form.filters");
    if (form && e.target.matches("select")) form.requestSubmit();
  });

  window.addEventListener("popstate", function () { load(location.href, null, false); });

  // ------------------------------------------------------------ search as you type
  const box = document.getElementById("q");
  const list = document.getElementById("suggestions");
  let searchTimer = null, lastQuery = "";

  function group(title, items, make) {
    if (!items.length) return;
    const h = document.createElement("p");
    h.className = "suggest-group";
    h.textContent = title;
    list.appendChild(h);
    items.forEach(function (item) {
      const a = document.createElement("a");
      a.setAttribute("role", "option");
      const [href, main, sub] = make(item);
      a.href = href;
      const strong = document.createElement("span");
      strong.textContent = main;
      a.appendChild(strong);
      if (sub) {
        const small = document.createElement("small");
        small.textContent = sub;
        a.appendChild(small);
      }
      list.appendChild(a);
    });
  }

  async function suggest() {
    searchTimer = null;
    const q = box.value.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    if (!q) { list.hidden = true; return; }
    const response = await fetch("/api/search?limit=5&q=" + encodeURIComponent(q), { credentials: "same-origin" });
    if (!response.ok || box.value.trim() !== q) return;
    const found = await response.json();
    list.replaceChildren();
    group("Artists", found.artists, function (a) { return ["/artists/" + a.id, a.name, a.album_count + " albums"]; });
    group("Albums", found.albums, function (a) { return ["/albums/" + a.id, a.title, [a.artist, a.year].filter(Boolean).join(" · ")]; });
    group("Tracks", found.tracks, function (t) { return [t.url, t.title, [t.artist, t.album].filter(Boolean).join(" · ")]; });
    if (!list.childElementCount) {
      const p = document.createElement("p");
      p.className = "suggest-empty";
      p.textContent = "Nothing matches.";
      list.appendChild(p);
    }
    list.hidden = false;
  }

  if (box && list) {
    box.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(suggest, 150);
    });
    box.addEventListener("keydown", function (e) {
      const options = Array.from(list.querySelectorAll("a"));
      const at = options.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && options.length) { e.preventDefault(); options[0].focus(); }
      if (e.key === "Escape") { list.hidden = true; }
      if (at >= 0 && e.key === "Enter") list.hidden = true;
    });
    list.addEventListener("keydown", function (e) {
      const options = Array.from(list.querySelectorAll("a"));
      const at = options.indexOf(document.activeElement);
      if (e.key === "ArrowDown") { e.preventDefault(); (options[at + 1] || options[at]).focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (at > 0 ? options[at - 1] : box).focus(); }
      if (e.key === "Escape") { list.hidden = true; box.focus(); }
    });
    list.addEventListener("click", function () { list.hidden = true; });
    document.addEventListener("click", function (e) {
      if (!e.target.closest("form.search")) list.hidden = true;
    });
  }

  // ------------------------------------------------------------ live parts of pages
  const progress = document.getElementById("progress");
  let refreshTimer = null;

  async function refreshLive() {
    refreshTimer = null;
    const regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length) return;
    const response = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    regions.forEach(function (region) {
      const fresh = doc.getElementById(region.id);
      if (!fresh) return;
      const known = new Set(Array.from(region.querySelectorAll("[data-id]"), function (n) { return n.dataset.id; }));
      fresh.querySelectorAll("[data-id]").forEach(function (n) {
        if (!known.has(n.dataset.id)) n.classList.add("fresh");
      });
      region.replaceWith(fresh);
    });
    ["count-tracks", "count-albums"].forEach(function (id) {
      const mine = document.getElementById(id), theirs = doc.getElementById(id);
      if (mine && theirs) mine.textContent = theirs.textContent;
    });
    document.dispatchEvent(new CustomEvent("soniquebay:page"));
  }

  function scheduleRefresh() {
    if (!refreshTimer) refreshTimer = setTimeout(refreshLive, 500);
  }

  function showProgress(e) {
    if (!progress) return;
    progress.hidden = false;
    progress.querySelector(".bar").style.width = (e.percent || 0) + "%";
    progress.querySelector(".label").textContent = (e.step || "") + " " + (e.current || 0) + "/" + (e.total || 0);
    if (e.percent >= 100) setTimeout(function () { progress.hidden = true; }, 1500);
  }

  function logEvent(e) {
    const log = document.getElementById("event-log");
    if (!log) return;
    const li = document.createElement("li");
    const what = e.type === "progress" ? (e.step || "progress") + " " + e.current + "/" + e.total
      : e.type + (e.title ? ": " + e.title : "") + (e.path ? " " + e.path : "");
    li.textContent = new Date().toLocaleTimeString() + "  " + what;
    log.prepend(li);
    while (log.childElementCount > 50) log.lastElementChild.remove();
  }

  // An account kept to some music folders gets no live events (they cover the whole library).
  if (window.EventSource && document.querySelector("meta[name=csrf-token]") &&
      document.documentElement.dataset.events !== "off") {
    const source = new EventSource("/api/events");
    source.onmessage = function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (event.type === "progress") showProgress(event);
      logEvent(event);
      if (event.type && (event.type.indexOf("track.") === 0 || event.type === "scan.finished")) scheduleRefresh();
    };
  }
})();
