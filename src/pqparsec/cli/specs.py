"""Names the command line uses for hashes and key recipes."""

from __future__ import annotations

from collections.abc import Callable

from pqparsec.client import templates
from pqparsec.protocol.psa import AeadKind, EccFamily, Hash, KeyAttributes

HASHES: dict[str, Hash] = {
    "md5": Hash.MD5, "ripemd160": Hash.RIPEMD160, "sha1": Hash.SHA_1, "sha224": Hash.SHA_224,
    "sha256": Hash.SHA_256, "sha384": Hash.SHA_384, "sha512": Hash.SHA_512,
    "sha512-224": Hash.SHA_512_224, "sha512-256": Hash.SHA_512_256, "sha3-224": Hash.SHA3_224,
    "sha3-256": Hash.SHA3_256, "sha3-384": Hash.SHA3_384, "sha3-512": Hash.SHA3_512,
}

Recipe = Callable[[int | None, bool], KeyAttributes]

# Symmetric keys: name -> recipe(bits or None for the default, exportable).
SYMMETRIC: dict[str, Recipe] = {
    "aes-gcm": lambda b, x: templates.aead(AeadKind.GCM, b, exportable=x),
    "aes-ccm": lambda b, x: templates.aead(AeadKind.CCM, b, exportable=x),
    "chacha20-poly1305": lambda b, x: templates.aead(AeadKind.CHACHA20_POLY1305, 256,
                                                     exportable=x),
    "hmac-sha256": lambda b, x: templates.hmac(Hash.SHA_256, b or 256, exportable=x),
    "hmac-sha384": lambda b, x: templates.hmac(Hash.SHA_384, b or 384, exportable=x),
    "hmac-sha512": lambda b, x: templates.hmac(Hash.SHA_512, b or 512, exportable=x),
}

# Every recipe, for can-do-crypto.
RECIPES: dict[str, Recipe] = {
    "rsa-sign": lambda b, x: templates.rsa_signing(b or 2048, exportable=x),
    "rsa-sign-pss": lambda b, x: templates.rsa_signing(b or 2048, pss=True, exportable=x),
    "rsa-encrypt": lambda b, x: templates.rsa_encryption(b or 2048, exportable=x),
    "rsa-encrypt-oaep": lambda b, x: templates.rsa_encryption(b or 2048, oaep=True, exportable=x),
    "ecdsa": lambda b, x: templates.ecc_signing(b or 256, exportable=x),
    "ecdh": lambda b, x: templates.ecdh(b or 256, exportable=x),
    "x25519": lambda b, x: templates.ecdh(255, EccFamily.MONTGOMERY, exportable=x),
    "ed25519": lambda b, x: templates.eddsa(255, exportable=x),
    **SYMMETRIC,
}

# Curves create-ecc-key offers: name -> (family, bits).
CURVES: dict[str, tuple[EccFamily, int]] = {
    "secp256r1": (EccFamily.SECP_R1, 256),
    "secp384r1": (EccFamily.SECP_R1, 384),
    "secp521r1": (EccFamily.SECP_R1, 521),
    "secp256k1": (EccFamily.SECP_K1, 256),
    "brainpoolp256r1": (EccFamily.BRAINPOOL_P_R1, 256),
    "brainpoolp384r1": (EccFamily.BRAINPOOL_P_R1, 384),
    "brainpoolp512r1": (EccFamily.BRAINPOOL_P_R1, 512),
    "x25519": (EccFamily.MONTGOMERY, 255),
    "x448": (EccFamily.MONTGOMERY, 448),
    "ed25519": (EccFamily.TWISTED_EDWARDS, 255),
    "ed448": (EccFamily.TWISTED_EDWARDS, 448),
}
