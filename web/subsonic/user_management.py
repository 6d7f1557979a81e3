"""User management: accounts as the spec has them (admins manage, a user sees themself),
their music folders, password changes."""

from __future__ import annotations

import asyncio

from soniquebay import credentials
from soniquebay.catalog import folders
from soniquebay.library import accounts, shares
from soniquebay.web import keys
from soniquebay.web.subsonic.auth import clear_password
from soniquebay.web.subsonic.context import Call
from soniquebay.web.subsonic.protocol import SubsonicError, not_found

MIN_PASSWORD = 8

AVATAR_SIZE = 256


def _refuse(message: str) -> SubsonicError:
    return SubsonicError(SubsonicError.NOT_AUTHORIZED, message)


def _admin(call: Call) -> None:
    if not call.user.is_admin:
        raise _refuse("only an administrator manages users")


def _user(call: Call, row: dict) -> dict:
    """A user as the spec shows one: the roles apps read to show or hide features."""
    admin = bool(row["is_admin"])
    seen = folders.visible(call.app[keys.SETTINGS].folders, accounts.folders_of(row))
    return {
        "username": row["username"], "email": "", "scrobblingEnabled": True,
        "adminRole": admin, "settingsRole": True, "downloadRole": row.get("downloads") != 0, "uploadRole": False,
        "playlistRole": True, "coverArtRole": True, "commentRole": False,
        "podcastRole": False, "streamRole": True, "jukeboxRole": False, "shareRole": row.get("shares") != 0,
        "videoConversionRole": False, "folder": [f.id for f in seen],
    }  # fmt: skip


def user_row(call: Call, name: str) -> dict:
    row = call.read(accounts.subsonic_user, name)
    if row is None:
        raise not_found(f"user {name[:60]!r}")
    return row


async def get_user(call: Call) -> dict:
    name = call.params.get("username") or call.user.name
    if name != call.user.name and not call.user.is_admin:
        raise _refuse("you may only look at yourself")
    return {"user": _user(call, user_row(call, name))}


async def get_users(call: Call) -> dict:
    _admin(call)
    return {"users": {"user": [_user(call, r) for r in call.read(accounts.list_users)]}}


def _password(call: Call) -> str:
    given = clear_password(call.params.required("password"))
    if given is None:
        raise SubsonicError(SubsonicError.GENERIC, "password: enc: must be followed by hex")
    if len(given) < MIN_PASSWORD:
        raise SubsonicError(
            SubsonicError.GENERIC, f"a password has at least {MIN_PASSWORD} characters"
        )
    return given


async def _seal(call: Call, password: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, credentials.seal, call.app[keys.SETTINGS], password)


async def create_user(call: Call) -> dict:
    _admin(call)
    name = call.params.required("username").strip()
    if len(name) > 64 or not name.isprintable():
        raise SubsonicError(SubsonicError.GENERIC, "a user name is 1 to 64 printable characters")
    password = _password(call)
    loop = asyncio.get_running_loop()
    hashed = await loop.run_in_executor(None, credentials.hash_password, password)
    chosen = _chosen_folders(call)
    await call.write(accounts.create_user, name, hashed, is_admin=call.params.bool("adminRole"))
    await call.write(accounts.set_subsonic_password, name, await _seal(call, password))
    if chosen is not None:
        await call.write(accounts.set_folders, name, chosen)
    if call.params.get("downloadRole") is not None:
        await call.write(accounts.set_downloads, name, call.params.bool("downloadRole"))
    if call.params.get("shareRole") is not None:
        await call.write(shares.set_allowed, name, call.params.bool("shareRole"))
    return {}


def _chosen_folders(call: Call) -> list[str] | None:
    """``musicFolderId`` (once per folder) as folder names; None when not given, or when
    every folder is (the account then sees every folder, those added later too)."""
    raw = call.params.all("musicFolderId")
    if not raw:
        return None
    configured = call.app[keys.SETTINGS].folders
    by_id = {str(f.id): f.name for f in configured}
    unknown = [r for r in raw if r not in by_id]
    if unknown:
        raise not_found(f"music folder {unknown[0][:20]}")
    names = sorted({by_id[r] for r in raw})
    return None if len(names) == len(configured) else names


async def update_user(call: Call) -> dict:
    _admin(call)
    name = call.params.required("username")
    user_row(call, name)
    if call.params.get("adminRole") is not None:
        await call.write(accounts.set_admin, name, call.params.bool("adminRole"))
    if call.params.all("musicFolderId"):
        await call.write(accounts.set_folders, name, _chosen_folders(call))
    if call.params.get("downloadRole") is not None:
        await call.write(accounts.set_downloads, name, call.params.bool("downloadRole"))
    if call.params.get("shareRole") is not None:
        await call.write(shares.set_allowed, name, call.params.bool("shareRole"))
    if call.params.get("password"):
        await call.write(accounts.set_subsonic_password, name, await _seal(call, _password(call)))
    return {}


async def delete_user(call: Call) -> dict:
    _admin(call)
    name = call.params.required("username")
    if name == call.user.name:
        raise _refuse("you cannot delete yourself")
    await call.write(accounts.delete_user, user_row(call, name)["id"])
    return {}


async def change_password(call: Call) -> dict:
    name = call.params.required("username")
    if name != call.user.name and not call.user.is_admin:
        raise _refuse("you may only change your own password")
    user_row(call, name)
    await call.write(accounts.set_subsonic_password, name, await _seal(call, _password(call)))
    return {}
