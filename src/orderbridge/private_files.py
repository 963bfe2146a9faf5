"""Files that hold secrets are the owner's alone (mode 0600), from the moment they exist.

``write_private`` creates a file owner-only *before* writing anything into it: a file
created with the default umask (often 0644) and narrowed afterwards would be readable by
everyone for a moment, and an existing file keeps its mode on ``open``.
``too_open`` says whether a file that holds secrets can be read by others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["PRIVATE_FILE_MODE", "too_open", "write_private"]

PRIVATE_FILE_MODE: Final = 0o600


def write_private(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, readable and writable by its owner only.

    Written to a new 0600 file beside it, then renamed over it: a reader never sees a
    half-written file, and a file that existed with a looser mode is replaced, not reused.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)  # whatever the umask did
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def too_open(path: Path) -> bool:
    """Whether the group or others may read or write ``path``."""
    return bool(path.stat().st_mode & 0o077)
