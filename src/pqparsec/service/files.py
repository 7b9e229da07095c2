"""Directories the service creates, with the mode it asks for whatever the process umask."""

from __future__ import annotations

import os


def make_dirs(directory: str, mode: int) -> None:
    """Create `directory` and any missing parent with exactly `mode` (os.makedirs leaves the
    parents at 0777 less the umask: under umask 000, a directory others could swap). Existing
    directories are left as they are; one made meanwhile by another process is accepted."""
    missing: list[str] = []
    d = os.path.abspath(directory)
    while not os.path.lexists(d):
        missing.append(d)
        d = os.path.dirname(d)
    for d in reversed(missing):
        try:
            os.mkdir(d, mode)  # never more than the mode; the umask may remove bits
        except FileExistsError:
            continue
        os.chmod(d, mode)
