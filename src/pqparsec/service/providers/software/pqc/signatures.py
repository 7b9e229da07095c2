"""ML-DSA, SLH-DSA and EdDSA signatures, with the FIPS 204 / 205 message formatting of
HashML-DSA ("external mu") and HashSLH-DSA (OID || PH(M))."""

from __future__ import annotations

import hashlib

import pqcrypto  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature

from pqparsec.protocol.psa import (
    Hash,
    KeyAttributes,
    SignAlg,
    SignKind,
    SlhDsaFamily,
)
from pqparsec.protocol.psa.policy import invalid_argument, invalid_signature, not_supported
from pqparsec.service.providers import slh_dsa_worker
from pqparsec.service.providers.software.pqc.keys import (
    can_sign_with,
    edwards_private,
    edwards_public,
    public_from_material,
)
from pqparsec.service.providers.software.pqc.params import (
    HASHLIB,
    ML_DSA,
    PREHASH_OIDS,
    lazy_import,
    pqcrypto_hash,
    slh_dsa_params,
    slh_dsa_public,
    slh_module,
)


class _Prehash:
    """A finished hash in the shape pycryptodome's ML-DSA accepts for HashML-DSA (oid, digest)."""

    def __init__(self, h: Hash, digest: bytes) -> None:
        self.oid = {Hash.SHA_224: "2.16.840.1.101.3.4.2.4", Hash.SHA_256: "2.16.840.1.101.3.4.2.1",
                    Hash.SHA_384: "2.16.840.1.101.3.4.2.2", Hash.SHA_512: "2.16.840.1.101.3.4.2.3",
                    Hash.SHA_512_224: "2.16.840.1.101.3.4.2.5",
                    Hash.SHA_512_256: "2.16.840.1.101.3.4.2.6",
                    Hash.SHA3_224: "2.16.840.1.101.3.4.2.7", Hash.SHA3_256: "2.16.840.1.101.3.4.2.8",
                    Hash.SHA3_384: "2.16.840.1.101.3.4.2.9",
                    Hash.SHA3_512: "2.16.840.1.101.3.4.2.10"}[h]
        self._digest = digest

    def digest(self) -> bytes:
        return self._digest


def _prehash_hash(alg: SignAlg) -> Hash:
    if not isinstance(alg.hash, Hash) or alg.hash not in PREHASH_OIDS:
        raise not_supported(f"{alg.kind.name} with hash {alg.hash!r} is not supported "
                            "(FIPS 204/205 pre-hashes: SHA-2, SHA-3)")
    return alg.hash


def _prehash(alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
    h = _prehash_hash(alg)
    return data if prehashed else hashlib.new(HASHLIB[h], data).digest()


def _ml_dsa_mu(pk: bytes, ctx: bytes, h: Hash, digest: bytes) -> bytes:
    """FIPS 204 HashML-DSA message representative: mu = H(H(pk, 64) || M', 64) with
    M' = 1 || |ctx| || ctx || OID(PH) || PH(M) (Algorithm 4, and Algorithm 7 step 6)."""
    tr = hashlib.shake_256(pk).digest(64)
    m_prime = b"\x01" + bytes([len(ctx)]) + ctx + PREHASH_OIDS[h] + digest
    return hashlib.shake_256(tr + m_prime).digest(64)


def sign(attrs: KeyAttributes, material: bytes | bytearray, alg: SignAlg, data: bytes,
         prehashed: bool, context: bytes = b"") -> bytes:
    """Sign with an extension key. `data` is the message, or its hash when `prehashed`."""
    kt, bits = attrs.key_type, attrs.key_bits
    if not kt.is_key_pair:
        raise invalid_argument("a public key cannot sign")
    if not can_sign_with(alg.kind):
        raise not_supported(f"{alg.kind.name} signing is not supported by the software provider "
                            "(hedged signing is)")
    m = bytes(material)
    if alg.kind == SignKind.PURE_EDDSA:
        return bytes(edwards_private(bits, m).sign(data))
    if alg.is_ml_dsa:
        deterministic = alg.kind in (SignKind.DETERMINISTIC_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA)
        if deterministic:
            mldsa_keys = lazy_import("Crypto.PublicKey.MLDSA")
            mldsa_sig = lazy_import("Crypto.Signature.mldsa")
            params = getattr(mldsa_keys, f"ML_DSA_{ML_DSA[bits][0]}")
            signer = mldsa_sig.new(mldsa_keys.construct(param_set=params, seed=m),
                                   context, deterministic=True)
            if alg.kind == SignKind.DETERMINISTIC_ML_DSA:
                return bytes(signer.sign(data))
            h = _prehash_hash(alg)
            return bytes(signer.sign(_Prehash(h, _prehash(alg, data, prehashed))))
        key = ML_DSA[bits][2].from_seed_bytes(m)
        if alg.kind == SignKind.ML_DSA:
            return bytes(key.sign(data, context))
        h = _prehash_hash(alg)
        pk = key.public_key().public_bytes_raw()
        return bytes(key.sign_mu(_ml_dsa_mu(pk, context, h, _prehash(alg, data, prehashed))))
    if alg.is_slh_dsa:
        return _slh_dsa_sign(kt.slh_dsa_family, bits, m, alg, data, prehashed, context)
    raise invalid_argument(f"{alg.kind.name} cannot be used with a {kt.describe()} key")


# SLH-DSA: which library does what. pqcrypto (C) signs hedged and verifies; its HashSLH-DSA takes
# the message and hashes it itself (its HashML-DSA, by contrast, takes PH(M)). So a hash that the
# caller computed (PsaSignHash / PsaVerifyHash), and every deterministic signature, go to slh-dsa
# with M' = 1 || |ctx| || ctx || OID(PH) || PH(M) (FIPS 205 Algorithms 23 and 25); its signing
# runs in worker processes (providers/slh_dsa_worker.py: it would hold the GIL for seconds).

def _slh_dsa_sign(family: SlhDsaFamily | None, bits: int, sk: bytes, alg: SignAlg, data: bytes,
                  prehashed: bool, context: bytes) -> bytes:
    deterministic = alg.kind in (SignKind.DETERMINISTIC_SLH_DSA,
                                 SignKind.DETERMINISTIC_HASH_SLH_DSA)
    if alg.kind in (SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA):
        if deterministic:  # FIPS 205 Algorithm 22 with opt_rand = PK.seed
            return slh_dsa_worker.run(slh_dsa_worker.sign_pure, slh_dsa_params(family, bits),
                                      sk, data, context, False)
        return bytes(slh_module(family, bits).sign(sk, data, context=context))
    h = _prehash_hash(alg)
    if not deterministic and not prehashed:
        return bytes(slh_module(family, bits).sign(sk, data, context=context,
                                                    hash_algorithm=pqcrypto_hash(h)))
    ph = PREHASH_OIDS[h] + _prehash(alg, data, prehashed)  # OID(PH) || PH(M)
    return slh_dsa_worker.run(slh_dsa_worker.sign_prehashed, slh_dsa_params(family, bits), sk,
                              ph, context, not deterministic)


def _slh_dsa_verify(family: SlhDsaFamily | None, bits: int, pk: bytes, alg: SignAlg, data: bytes,
                    signature: bytes, prehashed: bool, context: bytes) -> None:
    mod = slh_module(family, bits)
    if alg.kind in (SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA):
        mod.verify(pk, data, signature, context=context)
        return
    h = _prehash_hash(alg)
    if not prehashed:
        mod.verify(pk, data, signature, context=context, hash_algorithm=pqcrypto_hash(h))
        return
    ph = PREHASH_OIDS[h] + data
    pub = slh_dsa_public(family, bits, pk)
    if not pub.verify_hash(b"", signature, ctx=context, prehash=lambda _: ph):
        raise invalid_signature()


def verify(attrs: KeyAttributes, material: bytes | bytearray, alg: SignAlg, data: bytes,
           signature: bytes, prehashed: bool, context: bytes = b"") -> None:
    kt, bits = attrs.key_type, attrs.key_bits
    pk = public_from_material(attrs, material)
    try:
        if alg.kind == SignKind.PURE_EDDSA:
            edwards_public(bits, pk).verify(signature, data)
        elif alg.is_ml_dsa:
            pub = ML_DSA[bits][3].from_public_bytes(pk)
            if alg.kind in (SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA):
                pub.verify(signature, data, context)
            else:
                h = _prehash_hash(alg)
                pub.verify_mu(signature, _ml_dsa_mu(pk, context, h, _prehash(alg, data, prehashed)))
        elif alg.is_slh_dsa:
            _slh_dsa_verify(kt.slh_dsa_family, bits, pk, alg, data, signature, prehashed, context)
        else:
            raise invalid_argument(f"{alg.kind.name} cannot be used with a {kt.describe()} key")
    except (InvalidSignature, pqcrypto.InvalidSignatureError):
        raise invalid_signature() from None
    except ValueError:  # malformed signature (wrong length) for the library
        raise invalid_signature() from None

