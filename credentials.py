"""Secrets: password hashing, API tokens, the worker token, Subsonic passwords (sealed) and
API keys. No SQL here (see library/accounts.py).

Passwords are hashed with scrypt (stdlib, memory-hard); tokens are long random strings, so a
SHA-256 of them is enough to store. The worker token lets the web process, the watcher and the
workers of one host agree without configuration: ``api_token`` in the config wins, else the
file ``data_dir/worker-token`` (mode 0600), created by the first process that needs it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from soniquebay.config import Settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

TOKEN_PREFIX = "sbt_"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


def worker_token_path(settings: Settings) -> Path:
    return settings.data_dir / "worker-token"


def _secret_file(path: Path, make: Callable[[], str], create: bool) -> str:
    """A secret kept in a file of its own (0600), made by the first process that needs it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        if not create:
            return ""
    except OSError:
        return ""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def worker_token(settings: Settings, *, create: bool = False) -> str:
    """The token workers present: ``api_token`` from the config, else the data_dir file."""
    if settings.api_token:
        return settings.api_token
    return _secret_file(worker_token_path(settings), new_token, create)


# ---------------------------------------------------------------- Subsonic passwords
# Subsonic's salted tokens (t = md5(password + s)) need the password itself, so it cannot be
# hashed: each user sets a separate Subsonic password (never the login one), kept encrypted
# with a key made at install in data_dir/secret.key (0600), outside the database.


def secret_key_path(settings: Settings) -> Path:
    return settings.data_dir / "secret.key"


def _fernet(settings: Settings) -> Fernet:
    from cryptography.fernet import Fernet  # only the Subsonic passwords need it

    key = _secret_file(secret_key_path(settings), _new_fernet_key, True)
    return Fernet(key.encode())


def seal(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str | None:
    """The secret, or None when it cannot be read (the key file was replaced)."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(settings).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def sign(settings: Settings, message: str) -> str:
    """A short HMAC-SHA256 of ``message`` with the server's key (128 bits, URL-safe): what makes
    a share's link unguessable, yet showable again at any time."""
    digest = hmac.new(_signing_key(secret_key_path(settings)), message.encode(), hashlib.sha256)
    digest = digest.digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@functools.cache
def _signing_key(path: Path) -> bytes:
    """The server's key, read once per process (a list of shares signs every link)."""
    return _secret_file(path, _new_fernet_key, True).encode()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


API_KEY_PREFIX = "sbk_"


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)
