"""Post-quantum and Edwards keys of the software provider: a protocol extension (docs/pqc.md).

This package is the extension's back-end: functions on key material. The provider's operations
beside it (key management in base.py, signatures.py, kem.py, capabilities.py) call them for the
key types and requests that `handles_key_type` and `handles_request` claim.

ML-KEM (FIPS 203), ML-DSA (FIPS 204), SLH-DSA (FIPS 205), X-Wing, Ed25519/Ed448. Keys are stored
wrapped like every other key, in the PSA Crypto API 1.3/1.4 PQC extension key formats, and turned
into library objects at the edge:

| key                        | stored (= PSA export format)            | library                      |
|----------------------------|-----------------------------------------|------------------------------|
| ML-KEM-768/1024 key pair   | 64-byte seed d || z                     | cryptography                 |
| ML-KEM-512 key pair        | 64-byte seed d || z (keys generated     | pycryptodome expands the     |
|                            | earlier are pqcrypto's expanded dk,     | seed; pqcrypto encapsulates  |
|                            | 1632 bytes: still usable, not exported) | and decapsulates             |
| ML-DSA key pair            | 32-byte seed xi                         | cryptography (+ pycryptodome |
|                            |                                         | for deterministic signing)   |
| SLH-DSA key pair           | SK.seed || SK.prf || PK.seed || PK.root | pqcrypto (+ slh-dsa for      |
|                            |                                         | deterministic signing and    |
|                            |                                         | the PK.root check on import) |
| X-Wing key pair            | 32-byte X-Wing seed                     | cryptography (composition)   |
| Ed25519 / Ed448 key pair   | RFC 8032 private key (32 / 57 bytes)    | cryptography                 |
| public keys                | the PSA public format                   | as above                     |

No lattice or hash-tree arithmetic is done here: only the FIPS 204 / 205 message formatting for
HashML-DSA ("external mu") and HashSLH-DSA (OID || PH(M)), and the X-Wing combiner (SHAKE256
expansion, SHA3-256 combiner).

The modules: `claims` (which key types and requests are ours, with nothing else loaded),
`params` (parameter sets, libraries), `keys` (CanDoCrypto's answer for the extension's key types,
key material), `signatures`, `kem`.

Only `claims` is imported with the package: the provider asks it on every request, and a
software provider that never sees an extension key or algorithm never loads the rest, nor
pqcrypto with its 42 modules and the hashlib (OpenSSL's libcrypto) they import: about 5 MiB of
RSS in every service process (benchmarks/bench_memory.py). The other names below are imported
on first use, by the module `__getattr__`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.service.providers.software.pqc.claims import (
    MAX_CONTEXT,
    handles_key_type,
    handles_request,
)

if TYPE_CHECKING:
    from pqparsec.service.providers.software.pqc.kem import (
        check_kem_key,
        decapsulate,
        encapsulate,
        output_attributes,
    )
    from pqparsec.service.providers.software.pqc.keys import (
        alg_compatible,
        check_policy,
        export_material,
        generate,
        import_material,
        public_from_material,
    )
    from pqparsec.service.providers.software.pqc.params import (
        DETERMINISTIC_ML_DSA_AVAILABLE,
        DETERMINISTIC_SLH_DSA_AVAILABLE,
        ML_DSA,
        ML_KEM,
    )
    from pqparsec.service.providers.software.pqc.signatures import sign, verify

# The names imported on first use, and the module of each.
_LAZY = {
    "check_kem_key": "kem", "decapsulate": "kem", "encapsulate": "kem",
    "output_attributes": "kem",
    "alg_compatible": "keys", "check_policy": "keys", "export_material": "keys",
    "generate": "keys", "import_material": "keys", "public_from_material": "keys",
    "DETERMINISTIC_ML_DSA_AVAILABLE": "params", "DETERMINISTIC_SLH_DSA_AVAILABLE": "params",
    "ML_DSA": "params", "ML_KEM": "params",
    "sign": "signatures", "verify": "signatures",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups find it without coming here
    return value


def pqc_capability(check_type: CheckType, attrs: KeyAttributes) -> bool | None:
    """CanDoCrypto for the extension: None when `attrs` use nothing of the extension (the classic
    code decides, and nothing is loaded), else whether the software provider can do it."""
    if not attrs.is_extension:
        return None
    from pqparsec.service.providers.software.pqc.keys import pqc_capability as answer
    return answer(check_type, attrs)


__all__ = [
    "DETERMINISTIC_ML_DSA_AVAILABLE", "DETERMINISTIC_SLH_DSA_AVAILABLE", "MAX_CONTEXT", "ML_DSA",
    "ML_KEM", "alg_compatible", "check_kem_key", "check_policy", "decapsulate", "encapsulate",
    "export_material", "generate", "handles_key_type", "handles_request", "import_material",
    "output_attributes", "pqc_capability", "public_from_material", "sign", "verify",
]
