"""Secrets: password hashing, API tokens, the worker token. No SQL here (see library/accounts.py).

Passwords are hashed with scrypt (stdlib, memory-hard); tokens are long random strings, so a
SHA-256 of them is enough to store. The worker token lets the web process, the watcher and the
workers of one host agree without configuration: ``api_token`` in the config wins, else the
file ``data_dir/worker-token`` (mode 0600), created by the first process that needs it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from soniquebay.config import Settings

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


def worker_token(settings: Settings, *, create: bool = False) -> str:
    """The token workers present: ``api_token`` from the config, else the data_dir file."""
    if settings.api_token:
        return settings.api_token
    path = worker_token_path(settings)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        if not create:
            return ""
    except OSError:
        return ""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its token
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token
