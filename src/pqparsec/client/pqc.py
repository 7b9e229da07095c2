"""Client side of the post-quantum protocol extension (docs/protocol-extensions.md).

`PqcClientMixin` (in `pqparsec.client.pqc_ops`) adds key encapsulation and signature context
strings; `BasicClient` inherits it, so every `BasicClient` has them. `PqcClient` is kept as the
name the documentation and earlier code use: it is `BasicClient` itself, under another name.
"""

from __future__ import annotations

from pqparsec.client.basic import BasicClient
from pqparsec.client.pqc_ops import PqcClientMixin


class PqcClient(BasicClient):
    """`BasicClient`, which has the extension operations (kept for compatibility)."""


__all__ = ["PqcClient", "PqcClientMixin"]
