"""Issue 27, item 3, in Chromium against a real `serve`: light and dark colours. The page
follows the system's choice (prefers-color-scheme) until the user picks one with the header's
button, kept for that user; in both, the main text and the controls meet WCAG AA contrast —
computed here from the browser's computed styles, as the WCAG formula says."""

from __future__ import annotations

import re

from support.browsing import PASSWORD, log_in

# element -> the contrast it needs: 4.5 for text, 3 for large text and controls' borders/icons
CHECKED = {
    "body": 4.5, "main p.sub": 4.5, "main a": 4.5, "nav.menu a": 4.5, "h1": 3.0,
    "main button": 4.5, "main input": 4.5, "main select": 4.5, "main th": 4.5,
    "main td": 4.5, "footer.foot": 4.5, ".card-title": 4.5,
}  # fmt: skip
CONTRAST_JS = """(selector) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c;
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor || "rgb(255,255,255)");
  };
  return [...document.querySelectorAll(selector)].filter(el => el.offsetParent !== null).slice(0, 20).map(el => {
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    return [el.outerHTML.slice(0, 80), (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)];
  });
}"""


def contrast_failures(page) -> list[str]:
    failures, measured = [], 0
    for selector, needed in CHECKED.items():
        for what, ratio in page.evaluate(CONTRAST_JS, selector):
            measured += 1
            if ratio < needed:
                failures.append(f"{selector} {ratio:.2f} < {needed}: {what}")
    assert measured >= 30, f"only {measured} elements measured: the page is not what was meant"
    return failures


def scheme(page) -> str:
    """Which colours the page shows: the body's background is dark or light."""
    r, g, b = map(int, re.findall(r"\d+", page.evaluate(
        "() => getComputedStyle(document.body).backgroundColor"))[:3])  # fmt: skip
    return "dark" if r + g + b < 3 * 128 else "light"


def test_light_and_dark_follow_the_system_then_the_users_choice(serve, library, audio, browser):
    audio.make(library / "Album" / "01.mp3", title="Song", artist="Band", album="Album")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_for_tracks(1)
    for system in ("light", "dark"):
        context = browser.new_context(color_scheme=system, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        log_in(page, server.url, next_path="/tracks")
        assert scheme(page) == system  # auto: the system's
        assert contrast_failures(page) == [], (system, contrast_failures(page))
        context.close()

    context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    log_in(page, server.url, next_path="/tracks")
    page.click("nav.menu form.theme button")  # auto -> dark
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    assert scheme(page) == "dark" and contrast_failures(page) == []
    other = browser.new_context(color_scheme="light").new_page()  # the same user elsewhere
    log_in(other, server.url, next_path="/")
    assert scheme(other) == "dark"  # kept for the user, not the browser
    page.click("nav.menu form.theme button")  # dark -> light
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    assert scheme(page) == "light"
    page.click("nav.menu form.theme button")  # light -> auto
    page.wait_for_function("() => document.documentElement.dataset.theme === 'auto'")
