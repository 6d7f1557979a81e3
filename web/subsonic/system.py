"""System: ping, the licence, OpenSubsonic's extensions and ``tokenInfo``."""

from __future__ import annotations

from soniquebay.web.subsonic.context import Call


async def ping(call: Call) -> dict:
    return {}


async def get_license(call: Call) -> dict:
    return {"license": {"valid": True, "email": "", "licenseExpires": None}}


async def get_open_subsonic_extensions(call: Call) -> dict:
    return {
        "openSubsonicExtensions": [
            {"name": name, "versions": [1]}
            for name in (
                "formPost",
                "songLyrics",
                "apiKeyAuthentication",
                "transcodeOffset",
                "sonicSimilarity",
            )
        ]
    }


async def token_info(call: Call) -> dict:
    """apiKeyAuthentication's ``tokenInfo``: whose key (or login) this is."""
    return {"tokenInfo": {"username": call.user.name}}
