"""What the extension's back-end claims, decided without loading it: the provider's families ask
these on every request, and only a request they claim imports the rest of `pqc` (and with it
pqcrypto and the other post-quantum libraries)."""

from __future__ import annotations

from pqparsec.protocol.psa import KeyType, SignAlg

MAX_CONTEXT = 255  # FIPS 204 / 205: a context string has 0 to 255 bytes


def handles_key_type(kt: KeyType) -> bool:
    """Key types this package implements (every extension key type)."""
    return kt.is_extension


def handles_request(alg: SignAlg, context: bytes = b"") -> bool:
    """Whether a signature request goes to this package rather than the classic code. A classic
    algorithm with an extension key is refused by the classic code's compatibility check
    (policy.sign_alg_compatible), so the key need not be looked up to decide."""
    return alg.is_extension or bool(context)
