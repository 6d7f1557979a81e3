// A shared link's page: one player for the shared tracks, one after the other.
(function () {
  "use strict";
  const audio = document.getElementById("shared-audio");
  const buttons = Array.prototype.slice.call(document.querySelectorAll(".shared-play"));
  if (!audio || !buttons.length) return;
  let current = -1;
  function play(i) {
    if (i < 0 || i >= buttons.length) return;
    current = i;
    buttons.forEach(function (b, k) { b.setAttribute("aria-current", String(k === i)); });
    audio.src = buttons[i].dataset.src;
    audio.play().catch(function () { /* the browser wants a gesture first */ });
  }
  buttons.forEach(function (b, i) { b.addEventListener("click", function () { play(i); }); });
  audio.addEventListener("ended", function () { play(current + 1); });
})();
