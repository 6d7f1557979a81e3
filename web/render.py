"""Rendering pages: the Jinja environment, the filters that put numbers the way people read
them, and the response headers every page carries (a CSP that forbids inline script).

Tag text is attacker-controlled: autoescape is on for every template, whatever its name.
"""

from __future__ import annotations

import time

import jinja2
from aiohttp import web

from soniquebay import __version__
from soniquebay.web import keys

CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("soniquebay.web", "templates"),
        autoescape=True,
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters.update(
        duration=duration,
        timestamp=timestamp,
        bpm=lambda v: f"{round(v)} BPM" if v else "",
        kbps=lambda v: f"{round(v / 1000)} kbps" if v else "",
        khz=lambda v: f"{v / 1000:g} kHz" if v else "",
        lufs=lambda v: f"{v:.1f} LUFS".replace("-", "−") if v is not None else "",
        db=lambda v: f"{v:+.1f} dB".replace("-", "−") if v is not None else "",
        lu=lambda v: f"{v:.1f} LU" if v is not None else "",
        percent=lambda v: f"{round(v * 100)} %" if v is not None else "",
        seconds=lambda v: f"{v:.1f} s" if v is not None else "",
        musical_key=musical_key,
        channels=lambda v: {1: "mono", 2: "stereo"}.get(v, f"{v} channels") if v else "",
        total_duration=total_duration,
    )
    return env


def timestamp(epoch: float | None) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else ""
    except (OverflowError, ValueError, OSError):  # a time no calendar holds: shown as none
        return ""


def duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    seconds = int(round(seconds))
    return (
        f"{seconds // 60}:{seconds % 60:02d}"
        if seconds < 3600
        else f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    )


def total_duration(seconds: float | None) -> str:
    """An album's or playlist's length: "42 min", "1 h 12 min"."""
    minutes = round((seconds or 0) / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def musical_key(key: str | None, scale: str | None = None) -> str:
    if not key:
        return ""
    return f"{key} {scale}" if scale else key


def render(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    principal = request.get("principal")
    context.setdefault("principal", principal)
    context.setdefault("csrf", principal.csrf if principal else "")
    context.setdefault("path", request.path)
    context.setdefault("theme", principal.theme if principal else "auto")
    html = request.app[keys.TEMPLATES].get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", status=status, headers=PAGE_HEADERS)


async def confirmed(
    request: web.Request, question: str, consequence: str, verb: str, back: str
) -> web.Response | None:
    """None when the form says the person confirmed (``confirmed=yes``: the page's dialog, or
    this page's button); else the page asking them, for browsers without script."""
    form = await request.post()
    if str(form.get("confirmed", "")) == "yes":
        return None
    return render(request, "confirm.html", question=question, consequence=consequence,
                  verb=verb, back=back, action=request.path)  # fmt: skip


def wants_html(request: web.Request) -> bool:
    """A browser asking for a page (not the API, not a script asking for JSON)."""
    return not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", "")


ERROR_TITLES = {
    400: "That request was not understood",
    401: "Please log in",
    403: "You may not go there",
    404: "Nothing here",
    405: "Not like that",
    413: "Too large",
    429: "Slow down",
    500: "Something broke",
    503: "Not available right now",
}


def error_page(
    request: web.Request, status: int, message: str, request_id: str = ""
) -> web.Response:
    return render(
        request,
        "error.html",
        status=status,
        title=ERROR_TITLES.get(status, "Something went wrong"),
        code=status,
        message=message,
        request_id=request_id,
    )
