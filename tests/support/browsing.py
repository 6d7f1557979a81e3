"""What the browser tests share: logging in through the login page, the audio element's state."""

from __future__ import annotations

PASSWORD = "correct horse battery"


def log_in(page, url, user="admin", password=PASSWORD, next_path="/"):
    page.goto(url + next_path)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form.login button")
    page.wait_for_url(url + next_path)


def audio_state(page):
    return page.evaluate(
        "() => { const a = document.getElementById('audio');"
        " return {time: a.currentTime, paused: a.paused, src: a.currentSrc}; }"
    )
