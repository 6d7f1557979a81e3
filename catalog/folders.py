"""Music folders as people see them: the configured folders an account may see, and the scope
of a read (the folders it covers), from the account's folders and the folder an app or a page
chose."""

from __future__ import annotations

from collections.abc import Sequence

from soniquebay.config import MusicFolder
from soniquebay.errors import NotFound
from soniquebay.library.folders import Scope


def visible(
    folders: Sequence[MusicFolder], allowed: Sequence[str] | None
) -> tuple[MusicFolder, ...]:
    """The folders an account sees: every one, or those its folder names list."""
    if allowed is None:
        return tuple(folders)
    names = {n.casefold() for n in allowed}
    return tuple(f for f in folders if f.name.casefold() in names)


def scope(
    folders: Sequence[MusicFolder],
    allowed: Sequence[str] | None,
    chosen: Sequence[int] | None = None,
) -> Scope | None:
    """What a read covers: the account's folders, narrowed to ``chosen`` (folder ids) when
    given; None when that is the whole library (no filter at all). A chosen folder the
    account cannot see is NotFound, as a folder that does not exist."""
    seen = visible(folders, allowed)
    if chosen:
        ids = {f.id for f in seen}
        for folder_id in chosen:
            if folder_id not in ids:
                raise NotFound(
                    f"music folder {folder_id} does not exist", details={"id": folder_id}
                )
        seen = tuple(f for f in seen if f.id in chosen)
    if len(seen) == len(folders):
        return None
    return Scope.of(f.path for f in seen)
