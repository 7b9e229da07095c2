"""pqparsec's PKCS#11 module: a shared library that PKCS#11 applications load like any token's
module, whose C functions run Python (cffi embedding) and forward to the service with the client
library. `build.build()` compiles it (the pkcs11-module extra: cffi, plus gcc and python3-dev);
see docs/pkcs11-module.md."""

from __future__ import annotations

from pathlib import Path

from pqparsec.p11module.builder import LIBRARY_NAME, build, default_dir

__all__ = ["LIBRARY_NAME", "build", "default_dir", "library_path"]


def library_path(output_dir: str | None = None) -> Path:
    """Where the built library is (or would be) for this Python environment."""
    return Path(output_dir or default_dir()).resolve() / LIBRARY_NAME
