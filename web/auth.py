"""Who is asking, and may they? Sessions for pages, bearer tokens for the API, one policy.

- Pages use a session cookie (HttpOnly, SameSite=Lax) set by /login. A state-changing request
  carried by that cookie must also carry its CSRF token (``X-CSRF-Token`` header or a
  ``csrf_token`` form field): a cookie alone never writes.
- The API also takes ``Authorization: Bearer <token>``: tokens made from the UI or
  ``soniquebay token create`` (stored as SHA-256), or the worker token (``api_token``, else the
  ``data_dir/worker-token`` file that ``serve`` and the web process create).
- Scopes: read < write < admin. Reads may be opened to anonymous visitors (``anonymous_read``);
  writes never are. No credentials: 401; credentials without the scope: 403.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
import time

from aiohttp import web

from soniquebay import credentials
from soniquebay.errors import Forbidden, Unauthorized
from soniquebay.library import accounts
from soniquebay.web import access, keys
from soniquebay.web.throttle import LoginThrottle, parse_proxies

log = logging.getLogger(__name__)

SESSION_COOKIE = "soniquebay_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOKEN_CACHE_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class Principal:
    kind: str  # anonymous, user, token, worker
    name: str = ""
    scope: str = "none"
    csrf: str = ""  # set for a session: unsafe requests must echo it
    via: str = ""  # session or bearer
    user_id: int | None = None  # whose stars, plays and playlists (None: the worker, a CLI token)
    theme: str = "auto"  # the pages' colours this user chose (a session's)
    folders: tuple[str, ...] | None = None  # the music folders the user sees; None: every one
    downloads: bool = True  # may download files (an admin can turn it off per user)
    shares: bool = True  # may share links (likewise)

    def can(self, scope: str) -> bool:
        return access.granted(self.scope, scope)

    @property
    def sees_files(self) -> bool:
        """Whether file-system paths, scan errors and the service's workings are shown: to
        administrators, tokens and workers; never to a listener's session."""
        return self.scope != "listener"


ANONYMOUS = Principal("anonymous")


class AuthState:
    """The web process's view of credentials: worker token hash, a short cache of API tokens."""

    def __init__(self, worker_token: str, trusted_proxies: str = ""):
        self.worker_hash = credentials.hash_token(worker_token) if worker_token else ""
        self._tokens: dict[str, tuple[float, Principal | None]] = {}
        self.background: set[asyncio.Task] = set()  # token "last used" writes under way
        self.throttle = LoginThrottle()
        self.proxies = parse_proxies(trusted_proxies)

    def forget_tokens(self) -> None:
        self._tokens.clear()


def ensure_admin(app: web.Application) -> None:
    """First start: create the admin user, with the configured password or a printed one."""
    database, settings = app[keys.DB], app[keys.SETTINGS]
    if database.read(accounts.count_users):
        return
    password = settings.admin_password or credentials.new_password()
    database.writer_call(
        accounts.create_user, "admin", credentials.hash_password(password), is_admin=True
    )
    if settings.admin_password:
        log.warning("created the admin user 'admin' with the configured admin_password")
    else:
        # The one time a secret is logged: nobody could log in otherwise.
        log.warning(
            "created the admin user 'admin' with password %s (shown once; change it with "
            "`soniquebay user password admin`)",
            password,
        )


async def auth_ctx(app: web.Application):
    ensure_admin(app)
    settings = app[keys.SETTINGS]
    app[keys.AUTH] = AuthState(
        credentials.worker_token(settings, create=True), settings.trusted_proxies
    )
    yield


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized(
            "the Authorization header must be 'Bearer <token>'",
            details={"field": "Authorization"},
        )
    return value.strip()


def _in_background(state: AuthState, write) -> None:
    task = asyncio.get_running_loop().create_task(write)
    state.background.add(task)

    def done(finished: asyncio.Task) -> None:
        state.background.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("could not note when a token was used: %s", finished.exception())

    task.add_done_callback(done)


def _token_principal(app: web.Application, token: str) -> Principal | None:
    state: AuthState = app[keys.AUTH]
    digest = credentials.hash_token(token)
    if state.worker_hash and hmac.compare_digest(digest, state.worker_hash):
        return Principal("worker", "worker", "worker", via="bearer")
    now = time.monotonic()
    cached = state._tokens.get(digest)
    if cached and cached[0] > now:
        return cached[1]
    row = app[keys.DB].read(accounts.token_by_hash, digest)
    principal = (
        Principal(
            "token",
            row["name"],
            row["scope"],
            via="bearer",
            user_id=row["user_id"],
            folders=accounts.folders_of(row),
            downloads=row.get("downloads") != 0,
            shares=row.get("shares") != 0,
        )
        if row is not None
        else None
    )
    if row is not None:  # "last used" on the tokens page: at most once per cache period
        _in_background(state, app[keys.DB].write(accounts.touch_token, row["id"]))
    if len(state._tokens) > 1000:
        state._tokens.clear()
    state._tokens[digest] = (now + TOKEN_CACHE_SECONDS, principal)
    return principal


def _session_principal(app: web.Application, cookie: str) -> Principal | None:
    row = app[keys.DB].read(accounts.session_by_hash, credentials.hash_token(cookie))
    if row is None:
        return None
    return Principal(
        "user",
        row["username"],
        "admin" if row["is_admin"] else "listener",
        csrf=row["csrf_token"],
        via="session",
        user_id=row["user_id"],
        theme=row["theme"],
        folders=accounts.folders_of(row),
        downloads=row.get("downloads") != 0,
        shares=row.get("shares") != 0,
    )


def identify(request: web.Request) -> Principal:
    token = _bearer(request)
    if token is not None:
        principal = _token_principal(request.app, token)
        if principal is None:
            raise Unauthorized("this API token is unknown or revoked")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return _session_principal(request.app, cookie) or ANONYMOUS
    return ANONYMOUS


def required_scope(request: web.Request) -> str:
    """The access a request needs: its route's scope from the route table
    (:mod:`soniquebay.web.routes`); an unknown route needs none, it is a 404."""
    if request.method == "OPTIONS":
        return "none"  # CORS preflight
    resource = request.match_info.route.resource
    if resource is None:
        return "none"
    return request.app[keys.SCOPES].get((request.method, resource.canonical), "admin")


def _folder_aware(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    key = (request.method, resource.canonical if resource is not None else "")
    return key in request.app[keys.FOLDER_AWARE]


def demand(request: web.Request, scope: str) -> None:
    """Raise 401/403 unless the request's principal holds ``scope``."""
    principal: Principal = request.get("principal", ANONYMOUS)
    if principal.can(scope):
        return
    if scope == "read" and request.app[keys.SETTINGS].anonymous_read:
        return
    if principal.kind == "anonymous":
        raise Unauthorized(
            "log in or send 'Authorization: Bearer <token>'", details={"needs": scope}
        )
    raise Forbidden(
        f"{principal.kind} {principal.name!r} may not {scope} here", details={"needs": scope}
    )


async def _check_csrf(request: web.Request, principal: Principal) -> None:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = str((await request.post()).get("csrf_token", ""))
    if not sent or not hmac.compare_digest(sent, principal.csrf):
        raise Forbidden(
            "a form or script using the login session must send its CSRF token",
            details={"field": "csrf_token"},
        )


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    scope = required_scope(request)
    try:
        principal = identify(request)
    except Unauthorized:
        if scope != "none":
            raise
        # A route open to all answers whatever the header says: Subsonic apps (DSub, and
        # Ultrasonic with credentials in the URL) send 'Authorization: Basic', and /rest/
        # authenticates from its own parameters.
        principal = ANONYMOUS
    request["principal"] = principal
    if scope != "none":
        if principal.kind == "anonymous" and not request.path.startswith("/api/"):
            if request.method == "GET" and not (
                scope == "read" and request.app[keys.SETTINGS].anonymous_read
            ):
                raise web.HTTPFound(f"/login?next={request.path_qs}")
        demand(request, scope)
        if principal.folders is not None and not _folder_aware(request):
            raise Forbidden(
                f"{principal.name!r} sees only some music folders"
                f" ({', '.join(principal.folders) or 'none'}), and this covers the whole"
                " library: the pages, the player and the Subsonic API keep to those folders",
                details={"needs": "every music folder"},
            )
    if principal.via == "session" and request.method not in SAFE_METHODS and scope != "none":
        await _check_csrf(request, principal)
    return await handler(request)
