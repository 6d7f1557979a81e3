// The player: a queue that survives page loads (pages load in place; the queue is also kept on
// the server, per user, for a reload, another browser or an app), previous/next, seek, volume, shuffle/repeat, keyboard, and the
// Media Session API for lock screens and headset buttons. Plays are counted once half a track
// (or 4 minutes) was heard, as Last.fm counts a scrobble. It never stalls on a bad file: an
// original the browser cannot decode is transcoded (that track only: the chosen quality stays),
// and a track that cannot be played at all is announced, reported to the server (its page and
// /errors show it), marked unplayable for this session and skipped after a moment. Lyrics
// show in a panel; time-synced ones light the current line and keep it in view, and a click on
// a line goes there. The seek bar shows the track's waveform (the analysis's peaks) once known.
(function () {
  "use strict";
  const root = document.getElementById("player");
  // Two audio elements take turns: the playing one is #audio, the other (#audio-next) loads the
  // next track ahead, so it starts the moment this one ends (gapless), or fades in (crossfade).
  let audio = document.getElementById("audio");
  let spare = document.getElementById("audio-next");
  if (!root || !audio || !spare) return;
  const $ = function (sel) { return root.querySelector(sel); };
  function listen(type, handler) {  // events of the playing element only (they take turns)
    [audio, spare].forEach(function (el) {
      el.addEventListener(type, function (e) { if (e.target === audio) handler(e); });
    });
  }
  const KEY = "soniquebay.player.settings";  // this browser's; the queue is the user's (server)
  const state = { queue: [], index: -1, order: [], shuffle: false, repeat: "off", counted: false, base: 0 };
  const transcoded = new Set();  // ids whose original this browser could not play
  const unplayable = new Map();  // id -> why, for this session
  const SKIP_AFTER = 2500;  // ms the "can't play" message shows before the next track
  let skipping = null;
  let restored = false;  // the user's saved queue is back (or there was none)
  // ReplayGain: each track's (or its album's) gain, through Web Audio, never past its peak.
  const LEVELLING = "soniquebay.levelling";
  const levelling = (function () {
    try { return Object.assign({ mode: "off", preamp: 0 }, JSON.parse(localStorage.getItem(LEVELLING) || "{}")); }
    catch (_) { return { mode: "off", preamp: 0 }; }
  })();
  let graph = null;  // built the first time levelling is on: then the audio goes through it

  function ensureGraph() {
    if (graph) return graph;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    const ctx = new Context();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    analyser.connect(ctx.destination);
    const gains = new Map();  // element -> its gain: during a crossfade each track has its own
    [audio, spare].forEach(function (el) {
      const gain = ctx.createGain();
      ctx.createMediaElementSource(el).connect(gain);
      gain.connect(analyser);
      gains.set(el, gain);
    });
    graph = { ctx: ctx, gains: gains, analyser: analyser };
    return graph;
  }

  function gainFor(t) {
    const g = t && t.replay_gain;
    if (!g || levelling.mode === "off") return 1;
    const album = levelling.mode === "album";
    const db = album ? (g.albumGain ?? g.trackGain) : (g.trackGain ?? g.albumGain);
    const peak = album ? (g.albumPeak ?? g.trackPeak) : (g.trackPeak ?? g.albumPeak);
    if (db === undefined || db === null) return 1;
    let linear = Math.pow(10, (db + Number(levelling.preamp || 0)) / 20);
    if (peak > 0) linear = Math.min(linear, 1 / peak);  // clipping prevention
    return linear;
  }

  function applyLevelling(el, t) {
    if (levelling.mode === "off" && !graph) return;
    const g = ensureGraph();
    if (!g) return;
    g.gains.get(el || audio).gain.value = gainFor(t || state.queue[state.index]);
    if (g.ctx.state === "suspended") g.ctx.resume().catch(function () { /* needs a gesture */ });
  }

  function level() {  // the output's RMS now, in dBFS (after the gain): for a meter, and tests
    if (!graph) return null;
    const data = new Float32Array(graph.analyser.fftSize);
    graph.analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
    return 10 * Math.log10(sum / data.length || 1e-12);
  }

  function fmt(s) {
    if (!isFinite(s) || s < 0) s = 0;
    s = Math.floor(s);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // The queue is the user's, kept on the server (the record Subsonic's getPlayQueue reads): a
  // phone app and the browser go on from each other, and the next person on this browser does
  // not inherit it. Only this browser's settings (volume, quality, shuffle, repeat) stay here.
  let pushing = null, pushedAt = 0;
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({
        shuffle: state.shuffle, repeat: state.repeat, volume: Number($(".volume").value),
        quality: $(".quality").value, crossfade: crossfadeSeconds(),
      }));
    } catch (_) { /* private mode */ }
    clearTimeout(pushing);
    pushing = setTimeout(pushQueue, 800);
  }
  function pushQueue(leaving) {
    clearTimeout(pushing);
    if (!restored) return;  // not before the saved queue came back: it would be overwritten
    const t = state.queue[state.index];
    pushedAt = Date.now();
    fetch("/api/playqueue", {
      method: "PUT", credentials: "same-origin", keepalive: !!leaving,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": SoniqueBay.csrf() },
      body: JSON.stringify({
        track_ids: state.queue.map(function (x) { return x.id; }),
        current_id: t ? t.id : null, position_ms: Math.round(currentTime() * 1000),
      }),
    }).catch(function () { /* offline: the next change sends it */ });
  }

  async function fetchTracks(ids) {
    if (!ids.length) return [];
    const out = [];
    for (let i = 0; i < ids.length; i += 500) {
      const response = await fetch("/api/player/tracks?ids=" + ids.slice(i, i + 500).join(","), { credentials: "same-origin" });
      if (!response.ok) break;
      out.push.apply(out, (await response.json()).items);
    }
    return out;
  }

  function quality(track) {
    const chosen = $(".quality").value;
    const t = track || state.queue[state.index];
    if (chosen) return chosen.split(":");
    if (t && (transcoded.has(t.id) || (t.mime && !audio.canPlayType(t.mime.split(";")[0])))) {
      return audio.canPlayType("audio/ogg; codecs=opus") ? ["opus", "128"] : ["mp3", "192"];
    }
    return null;
  }

  function sourceFor(t, offset) {
    const q = quality(t);
    if (!q) return t.stream;
    return t.stream + "?format=" + q[0] + "&bitrate=" + q[1] + (offset ? "&offset=" + offset.toFixed(1) : "");
  }

  function currentTime() { return state.base + (audio.currentTime || 0); }
  function totalTime() {
    const t = state.queue[state.index];
    return (t && t.duration) || (state.base === 0 && isFinite(audio.duration) ? audio.duration : 0);
  }

  function show() {
    const t = state.queue[state.index];
    root.hidden = !state.queue.length;
    document.body.classList.toggle("with-player", !root.hidden);
    $(".queue-count").textContent = state.queue.length;
    const title = $(".np-title");
    title.textContent = t ? t.title : "Nothing playing";
    title.href = t ? t.url : "#";
    $(".np-artist").textContent = t ? [t.artist, t.album].filter(Boolean).join(" — ") : "";
    $(".np-cover").src = t ? t.cover : "data:,";
    $(".np-cover").alt = t ? "Cover of " + (t.album || t.title) : "";
    $("[data-act=shuffle]").setAttribute("aria-pressed", String(state.shuffle));
    const repeat = $("[data-act=repeat]");
    repeat.setAttribute("aria-pressed", String(state.repeat !== "off"));
    repeat.setAttribute("aria-label", "Repeat: " + state.repeat);
    setIcon(repeat, state.repeat === "one" ? "repeat-one" : "repeat");
    renderQueue();
    document.querySelectorAll("tr.playing, li.playing").forEach(function (n) { n.classList.remove("playing"); });
    if (t) document.querySelectorAll('[data-id="' + t.id + '"]').forEach(function (n) {
      if (n.matches("tr, .playlist-tracks li")) n.classList.add("playing");
    });
    mediaSession(t);
    showLyrics();
    showWave();
  }

  // Lyrics of the playing track, fetched when the panel is open; synced ones follow the music.
  const lyrics = { id: null, lines: [], current: -1 };
  async function showLyrics() {
    const panel = $(".lyrics-panel"), t = state.queue[state.index];
    if (panel.hidden || !t || lyrics.id === t.id) return;
    Object.assign(lyrics, { id: t.id, lines: [], current: -1 });
    const body = panel.querySelector(".lyrics-body");
    body.textContent = "…";
    let found = null;
    try {
      const response = await fetch("/api/tracks/" + t.id + "/lyrics", { credentials: "same-origin" });
      if (response.ok) found = await response.json();
    } catch (_) { /* offline: said below */ }
    if (lyrics.id !== t.id) return;  // another track came meanwhile
    body.textContent = "";
    if (found && found.synced) {
      const list = document.createElement("ol");
      list.className = "lyrics-lines";
      found.synced.forEach(function (pair) {
        const li = document.createElement("li"), button = document.createElement("button");
        button.type = "button";
        button.dataset.at = String(pair[0]);
        button.textContent = pair[1] || "\u266a";
        button.title = "Play from " + fmt(pair[0]);
        li.appendChild(button);
        list.appendChild(li);
        lyrics.lines.push({ at: pair[0], node: li });
      });
      body.appendChild(list);
      followLyrics();
    } else if (found && found.text) {
      const text = document.createElement("p");
      text.className = "lyrics-text";
      text.textContent = found.text;
      body.appendChild(text);
    } else {
      body.textContent = found ? "No lyrics for this track." : "The lyrics could not be loaded.";
    }
  }
  function followLyrics() {
    const panel = $(".lyrics-panel");
    if (!lyrics.lines.length || panel.hidden) return;
    const now = currentTime() + 0.05;
    let i = -1;
    while (i + 1 < lyrics.lines.length && lyrics.lines[i + 1].at <= now) i++;
    if (i === lyrics.current) return;
    if (lyrics.current >= 0) {
      lyrics.lines[lyrics.current].node.classList.remove("current");
      lyrics.lines[lyrics.current].node.removeAttribute("aria-current");
    }
    lyrics.current = i;
    if (i < 0) return;
    const node = lyrics.lines[i].node;
    node.classList.add("current");
    node.setAttribute("aria-current", "true");
    panel.scrollTop = node.offsetTop - panel.clientHeight / 2 + node.clientHeight / 2;
  }

  // The waveform behind the seek bar; the range input over it stays the control.
  const wave = { id: null, width: 200 };
  async function showWave() {
    const t = state.queue[state.index], timeline = $(".timeline"), svg = $(".wave");
    if (!t || wave.id === t.id) return;
    wave.id = t.id;
    timeline.classList.remove("has-wave");
    svg.hidden = true;
    let peaks = null;
    try {
      const response = await fetch("/api/tracks/" + t.id + "/waveform", { credentials: "same-origin" });
      if (response.ok) peaks = (await response.json()).peaks;
    } catch (_) { /* no waveform: the plain seek bar */ }
    if (wave.id !== t.id || !peaks || !peaks.length) return;
    let d = "";
    peaks.forEach(function (peak, i) {
      const h = Math.max(1, peak / 255 * 30);
      d += "M" + i + " " + ((32 - h) / 2).toFixed(2) + "h0.8v" + h.toFixed(2) + "h-0.8z";
    });
    wave.width = peaks.length;
    svg.setAttribute("viewBox", "0 0 " + peaks.length + " 32");
    svg.querySelectorAll("path").forEach(function (path) { path.setAttribute("d", d); });
    svg.hidden = false;
    timeline.classList.add("has-wave");
    followWave(currentTime());
  }
  function followWave(at) {
    const total = totalTime();
    if (!$(".wave").hidden && total) $(".wave-clip").setAttribute("width", String(Math.min(1, at / total) * wave.width));
  }

  function setIcon(button, name) {
    const use = button.querySelector("use");
    if (use) use.setAttribute("href", "/static/icons.svg#" + name);
  }

  function renderQueue() {
    const list = $(".queue-list");
    list.replaceChildren();
    state.queue.forEach(function (t, i) {
      const li = document.createElement("li");
      if (i === state.index) li.classList.add("current");
      if (unplayable.has(t.id)) { li.classList.add("unplayable"); li.title = "Can't play: " + unplayable.get(t.id); }
      const play = document.createElement("button");
      play.type = "button";
      play.className = "q-title";
      play.textContent = t.title + (t.artist ? " — " + t.artist : "");
      play.addEventListener("click", function () { unplayable.delete(t.id); playAt(i); });
      li.appendChild(play);
      [["↑", -1, "Move up"], ["↓", 1, "Move down"], ["✕", 0, "Remove"]].forEach(function (spec) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = spec[0];
        b.setAttribute("aria-label", spec[2] + ": " + t.title);
        b.addEventListener("click", function () { spec[1] ? move(i, i + spec[1]) : remove(i); });
        li.appendChild(b);
      });
      draggable(li, i, move);
      list.appendChild(li);
    });
  }

  // Drag a row onto another to move it there (the ↑ ↓ buttons stay, for keyboards).
  function draggable(li, i, moveTo) {
    li.draggable = true;
    li.dataset.position = String(i);
    li.addEventListener("dragstart", function (e) {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", String(i));
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", function () { li.classList.remove("dragging"); });
    li.addEventListener("dragover", function (e) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; });
    li.addEventListener("drop", function (e) {
      e.preventDefault();
      const from = Number(e.dataTransfer.getData("text/plain"));
      if (from !== i && Number.isInteger(from)) moveTo(from, i);
    });
  }

  function move(from, to) {
    if (to < 0 || to >= state.queue.length) return;
    const [t] = state.queue.splice(from, 1);
    state.queue.splice(to, 0, t);
    if (state.index === from) state.index = to;
    else if (from < state.index && to >= state.index) state.index -= 1;
    else if (from > state.index && to <= state.index) state.index += 1;
    resetOrder();
    show(); save();
  }

  function remove(i) {
    state.queue.splice(i, 1);
    if (i < state.index) state.index -= 1;
    else if (i === state.index) {
      if (!state.queue.length) { stop(); return; }
      state.index = Math.min(state.index, state.queue.length - 1);
      load(state.index, 0, !audio.paused);
    }
    resetOrder();
    show(); save();
  }

  function stop() {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    prepared = null;
    state.queue = []; state.index = -1; state.order = [];
    show(); save();
  }

  function resetOrder() {
    state.order = state.queue.map(function (_, i) { return i; });
    if (state.shuffle) {
      for (let i = state.order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [state.order[i], state.order[j]] = [state.order[j], state.order[i]];
      }
      const at = state.order.indexOf(state.index);
      if (at > 0) { state.order.splice(at, 1); state.order.unshift(state.index); }
    }
  }

  function load(index, offset, autoplay) {
    const t = state.queue[index];
    if (!t) return;
    if (fading) {  // a jump during a crossfade: the fading-out track stops now
      clearInterval(fading);
      fading = null;
      spare.pause();
      spare.removeAttribute("src");
      spare.load();
      prepared = null;
    }
    audio.volume = Number($(".volume").value);
    announced = null;
    clearTimeout(skipping);
    problem("");
    state.index = index;
    state.counted = false;
    const q = quality();
    state.base = q ? (offset || 0) : 0;
    audio.src = sourceFor(t, q ? offset : 0);
    if (!q && offset) audio.addEventListener("loadedmetadata", function once() {
      audio.removeEventListener("loadedmetadata", once);
      audio.currentTime = offset;
    });
    show();
    applyLevelling();
    if (autoplay) audio.play().catch(function () { /* the browser wants a gesture first */ });
  }

  function playAt(index) { load(index, 0, true); save(); }

  function step(direction) {
    if (!state.queue.length) return;
    let at = state.order.indexOf(state.index);
    for (let tries = 0; tries < state.order.length; tries++) {
      let next = at + direction;
      if (next >= state.order.length || next < 0) {
        if (state.repeat !== "all") { if (direction > 0) { audio.pause(); } return; }
        next = (next + state.order.length) % state.order.length;
      }
      at = next;
      if (!unplayable.has(state.queue[state.order[next]].id)) { playAt(state.order[next]); return; }
    }
    audio.pause();  // nothing left that plays
  }

  function problem(text) {
    const line = $(".np-problem");
    line.textContent = text;
    line.hidden = !text;
  }

  function describe(error) {
    if (!error) return "the stream stopped";
    return ({ 1: "loading was stopped", 2: "a network error", 3: "the audio could not be decoded",
              4: "neither the file nor a transcode of it could be opened" })[error.code] +
      (error.message ? " (" + error.message + ")" : "");
  }

  function cannotPlay(t) {
    const why = describe(audio.error);
    unplayable.set(t.id, why);
    problem("Can't play this file: " + why + ". Skipping it.");
    renderQueue();
    fetch("/api/tracks/" + t.id + "/playback-errors", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": SoniqueBay.csrf() },
      body: JSON.stringify({ reason: why, transcoded: Boolean(quality()) }),
    }).catch(function () { /* the server is away: the message is still shown */ });
    skipping = setTimeout(function () { if (state.queue[state.index] === t) step(1); }, SKIP_AFTER);
  }

  function seek(to) {
    to = Math.max(0, Math.min(to, totalTime() || to));
    if (state.base || (quality() && state.queue[state.index])) {
      load(state.index, to, !audio.paused);  // a transcoded stream starts again from there
    } else {
      audio.currentTime = to;
    }
  }

  async function play(ids, start, append) {
    const tracks = await fetchTracks(ids);
    if (!tracks.length) return;
    if (append) {
      state.queue = state.queue.concat(tracks);
      resetOrder();
      if (state.index < 0) load(0, 0, false);
      show(); save();
      return;
    }
    state.queue = tracks;
    resetOrder();
    playAt(Math.min(start || 0, tracks.length - 1));
  }
  window.SoniqueBay = window.SoniqueBay || {};
  SoniqueBay.player = { play: play, state: state, level: level, gain: function () { return graph ? graph.gains.get(audio).gain.value : 1; } };
  Object.defineProperty(SoniqueBay.player, "audio", { get: function () { return audio; } });

  // -------------------------------------------------------------- wiring
  document.addEventListener("click", function (e) {
    const button = e.target.closest("[data-play], [data-enqueue]");
    if (!button) return;
    e.preventDefault();
    const raw = button.dataset.play || button.dataset.enqueue || "";
    const ids = raw.split(",").filter(Boolean).map(Number);
    play(ids, Number(button.dataset.start || 0), "enqueue" in button.dataset);
  });

  root.addEventListener("click", function (e) {
    const button = e.target.closest("[data-act]");
    if (!button) return;
    const act = button.dataset.act;
    if (act === "toggle") audio.paused ? audio.play() : audio.pause();
    else if (act === "prev") currentTime() > 3 ? seek(0) : step(-1);
    else if (act === "next") step(1);
    else if (act === "shuffle") { state.shuffle = !state.shuffle; resetOrder(); show(); save(); }
    else if (act === "repeat") { state.repeat = { off: "all", all: "one", one: "off" }[state.repeat]; show(); save(); }
    else if (act === "lyrics" || act === "queue") togglePanel(act, button);
    else if (act === "clear") stop();
    else if (act === "save") saveQueue();
  });

  function togglePanel(act, button) {  // the queue and the lyrics share the corner: one at a time
    const panel = $(act === "lyrics" ? ".lyrics-panel" : "#queue-panel");
    const other = act === "lyrics" ? "queue" : "lyrics";
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) {
      $(other === "lyrics" ? ".lyrics-panel" : "#queue-panel").hidden = true;
      $("[data-act=" + other + "]").setAttribute("aria-expanded", "false");
    }
    if (act === "lyrics") { lyrics.id = null; showLyrics(); }  // for the track playing now
  }

  async function saveQueue() {
    if (!state.queue.length) return;
    const name = window.prompt("Name of the new playlist", "Queue " + new Date().toLocaleDateString());
    if (!name) return;
    const response = await fetch("/api/playlists", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": SoniqueBay.csrf() },
      body: JSON.stringify({ name: name, track_ids: state.queue.map(function (t) { return t.id; }) }),
    });
    if (response.ok && SoniqueBay.load) SoniqueBay.load("/playlists/" + (await response.json()).id, null, true);
  }

  const seekBar = $(".seek");
  let dragging = false;
  seekBar.addEventListener("input", function () { dragging = true; followWave(Number(seekBar.value)); root.querySelector("[data-time=current]").textContent = fmt(Number(seekBar.value)); });
  seekBar.addEventListener("change", function () { dragging = false; seek(Number(seekBar.value)); });
  $(".volume").addEventListener("input", function (e) { audio.volume = Number(e.target.value); save(); });
  $(".crossfade").addEventListener("change", save);
  function levellingChanged() {
    levelling.mode = $(".rg-mode").value;
    levelling.preamp = Number($(".rg-preamp").value);
    try { localStorage.setItem(LEVELLING, JSON.stringify(levelling)); } catch (_) { /* private mode */ }
    applyLevelling();
  }
  $(".rg-mode").addEventListener("change", levellingChanged);
  $(".rg-preamp").addEventListener("change", levellingChanged);
  $(".rg-mode").value = levelling.mode;
  $(".rg-preamp").value = String(levelling.preamp);
  $(".quality").addEventListener("change", function () {
    if (state.index >= 0) load(state.index, currentTime(), !audio.paused);
    save();
  });

  listen("play", function () { if (graph && graph.ctx.state === "suspended") graph.ctx.resume(); const b = $("[data-act=toggle]"); setIcon(b, "pause"); b.setAttribute("aria-label", "Pause"); });
  let announced = null;  // the track the server was told is playing (scrobblers' "now playing")
  listen("playing", function () {
    const t = state.queue[state.index];
    if (!t || announced === t) return;
    announced = t;
    fetch("/api/tracks/" + t.id + "/now-playing", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": SoniqueBay.csrf() },
    }).catch(function () { /* offline: nothing to tell */ });
  });
  listen("pause", function () { const b = $("[data-act=toggle]"); setIcon(b, "play"); b.setAttribute("aria-label", "Play"); save(); });
  root.addEventListener("click", function (e) {
    const line = e.target.closest(".lyrics-lines button");
    if (line) seek(Number(line.dataset.at));
  });
  listen("timeupdate", function () {
    followLyrics();
    const now = currentTime(), total = totalTime();
    if (total && total - now < 30) prepareNext();
    const fadeFor = crossfadeSeconds();
    if (fadeFor && !fading && total && total - now <= fadeFor && total > fadeFor + 1) {
      const next = nextIndex();
      if (ready(next)) takeTurn(next, Math.max(0.5, total - now));
    }
    if (!dragging) {
      followWave(now);
      seekBar.max = String(Math.ceil(total));
      seekBar.value = String(Math.floor(now));
      root.querySelector("[data-time=current]").textContent = fmt(now);
    }
    root.querySelector("[data-time=total]").textContent = fmt(total);
    if (!audio.paused && Date.now() - pushedAt > 15000) pushQueue();  // where it is, now and then
    const t = state.queue[state.index];
    if (t && !state.counted && total && (now >= total / 2 || now >= 240)) {
      state.counted = true;
      fetch("/api/tracks/" + t.id + "/plays", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": SoniqueBay.csrf() },
      });
    }
    if ("mediaSession" in navigator && navigator.mediaSession.setPositionState && total) {
      try { navigator.mediaSession.setPositionState({ duration: total, position: Math.min(now, total), playbackRate: 1 }); } catch (_) { /* ignore */ }
    }
  });
  listen("ended", function () {
    if (state.repeat === "one") { load(state.index, 0, true); return; }
    const next = nextIndex();
    if (ready(next)) { takeTurn(next, 0); return; }  // gapless: it was loaded ahead
    step(1);
  });
  spare.addEventListener("error", function () { prepared = null; });  // loaded ahead in vain

  // Gapless and crossfade: the next track loads ahead in the spare element, 30 s before the end;
  // it starts when this one ends, or fades in over the last seconds (crossfade, off by default).
  let prepared = null, fading = null;
  function nextIndex() {
    if (!state.queue.length || state.repeat === "one") return -1;
    let at = state.order.indexOf(state.index);
    for (let tries = 0; tries < state.order.length; tries++) {
      at += 1;
      if (at >= state.order.length) {
        if (state.repeat !== "all") return -1;
        at = 0;
      }
      const index = state.order[at];
      if (!unplayable.has(state.queue[index].id)) return index;
    }
    return -1;
  }
  function prepareNext() {
    const next = nextIndex();
    if (next < 0 || state.queue[next] === state.queue[state.index]) return;
    const t = state.queue[next], src = sourceFor(t, 0);
    if (prepared && prepared.track === t && prepared.src === src) return;
    prepared = { track: t, src: src };
    spare.src = src;
    spare.preload = "auto";
    spare.load();
  }
  function ready(next) {
    return next >= 0 && prepared && prepared.track === state.queue[next] && spare.readyState >= 2 &&
      prepared.src === sourceFor(state.queue[next], 0);
  }
  function takeTurn(next, fadeSeconds) {
    const old = audio;
    audio = spare;
    spare = old;
    spare.id = "audio-next";
    audio.id = "audio";
    prepared = null;
    clearTimeout(skipping);
    problem("");
    state.index = next;
    state.counted = false;
    state.base = 0;
    announced = null;
    applyLevelling(audio, state.queue[next]);
    const volume = Number($(".volume").value);
    audio.volume = fadeSeconds ? 0 : volume;
    audio.play().catch(function () { /* the browser wants a gesture first */ });
    if (fadeSeconds) fade(old, audio, fadeSeconds, volume);
    else { old.removeAttribute("src"); old.load(); }
    show(); save();
  }
  function fade(from, to, seconds, volume) {
    const started = performance.now();
    clearInterval(fading);
    fading = setInterval(function () {
      const k = Math.min(1, (performance.now() - started) / (seconds * 1000));
      to.volume = volume * k;
      from.volume = volume * (1 - k);
      if (k >= 1) {
        clearInterval(fading);
        fading = null;
        from.pause();
        from.removeAttribute("src");
        from.load();
      }
    }, 50);
  }
  function crossfadeSeconds() { return Number($(".crossfade").value) || 0; }
  listen("error", function () {
    const t = state.queue[state.index];
    if (!t || !audio.getAttribute("src")) return;
    if (!quality() && !transcoded.has(t.id)) {
      transcoded.add(t.id);  // this browser cannot play the original: transcode this one
      load(state.index, currentTime(), true);
      return;
    }
    cannotPlay(t);
  });

  document.addEventListener("keydown", function (e) {
    if (!state.queue.length || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, textarea, select, [contenteditable]")) return;
    if (e.key === " " && !e.target.closest("button, a")) { e.preventDefault(); audio.paused ? audio.play() : audio.pause(); }
    else if (e.key === "ArrowRight") { e.preventDefault(); e.shiftKey ? step(1) : seek(currentTime() + 10); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); e.shiftKey ? step(-1) : seek(currentTime() - 10); }
    else if (e.key === "ArrowUp" && e.shiftKey) { e.preventDefault(); audio.volume = Math.min(1, audio.volume + 0.1); $(".volume").value = audio.volume; }
    else if (e.key === "ArrowDown" && e.shiftKey) { e.preventDefault(); audio.volume = Math.max(0, audio.volume - 0.1); $(".volume").value = audio.volume; }
  });

  function mediaSession(t) {
    if (!("mediaSession" in navigator) || !t) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: t.title, artist: t.artist, album: t.album,
      artwork: [{ src: t.cover, sizes: "300x300", type: "image/jpeg" }],
    });
  }
  if ("mediaSession" in navigator) {
    const handlers = {
      play: function () { audio.play(); }, pause: function () { audio.pause(); },
      previoustrack: function () { step(-1); }, nexttrack: function () { step(1); },
      seekbackward: function (d) { seek(currentTime() - (d.seekOffset || 10)); },
      seekforward: function (d) { seek(currentTime() + (d.seekOffset || 10)); },
      seekto: function (d) { seek(d.seekTime); },
    };
    Object.keys(handlers).forEach(function (name) {
      try { navigator.mediaSession.setActionHandler(name, handlers[name]); } catch (_) { /* unsupported */ }
    });
  }

  document.addEventListener("soniquebay:page", show);
  window.addEventListener("pagehide", function () { if (state.queue.length) pushQueue(true); });

  // A page load: this user's queue comes back where they left it (here, another browser or
  // an app), paused; this browser's settings from localStorage.
  (async function restore() {
    let saved = null, queue = null;
    try {
      saved = JSON.parse(localStorage.getItem(KEY) || "null");
      localStorage.removeItem("soniquebay.player");  // where earlier versions kept the queue itself
    } catch (_) { saved = null; }
    if (saved) {
      state.shuffle = !!saved.shuffle;
      state.repeat = saved.repeat || "off";
      audio.volume = typeof saved.volume === "number" ? saved.volume : 1;
      $(".volume").value = audio.volume;
      $(".quality").value = saved.quality || "";
      $(".crossfade").value = String(saved.crossfade || 0);
    }
    try {
      const response = await fetch("/api/playqueue", { credentials: "same-origin" });
      if (response.ok) queue = await response.json();
    } catch (_) { /* offline: an empty queue */ }
    if (queue && queue.track_ids.length && !state.queue.length) {
      state.queue = await fetchTracks(queue.track_ids);
      resetOrder();
      const at = state.queue.findIndex(function (t) { return t.id === queue.current_id; });
      if (state.queue.length) load(Math.max(0, at), at >= 0 ? queue.position_ms / 1000 : 0, false);
    }
    restored = SoniqueBay.player.restored = true;  // (tests wait for it)
    show();
  })();
})();
