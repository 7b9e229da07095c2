"""The software provider (Parsec provider id 1, "MbedCrypto"), built on `cryptography`.

Keys live wrapped in the key store (see wrap.py): the mapping *is* the key, so creation is one
SQLite transaction and a failed create leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.operations import (
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    PsaGenerateKeyRequest,
    PsaGenerateRandomRequest,
    PsaGenerateRandomResult,
    PsaHashCompareRequest,
    PsaHashComputeRequest,
    PsaHashComputeResult,
    PsaImportKeyRequest,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import Hash, KeyAttributes, SignAlg, SignKind
from pqparsec.protocol.psa.policy import (
    check_not_deprecated,
    check_sign_hash_length,
    check_sign_request,
    invalid_argument,
    not_permitted,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.config import Config, ConfigError, ProviderConfig
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.wrap import KeyWrapper, load_or_create_kek, wipe

HASHES: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.MD5: hashes.MD5,
    Hash.SHA_1: hashes.SHA1,
    Hash.SHA_224: hashes.SHA224,
    Hash.SHA_256: hashes.SHA256,
    Hash.SHA_384: hashes.SHA384,
    Hash.SHA_512: hashes.SHA512,
    Hash.SHA_512_224: hashes.SHA512_224,
    Hash.SHA_512_256: hashes.SHA512_256,
    Hash.SHA3_224: hashes.SHA3_224,
    Hash.SHA3_256: hashes.SHA3_256,
    Hash.SHA3_384: hashes.SHA3_384,
    Hash.SHA3_512: hashes.SHA3_512,
}


def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    cls = HASHES.get(h)
    if cls is None:
        raise not_supported(f"hash {h.name} is not supported")
    return cls()


def digest(h: Hash, data: bytes) -> bytes:
    if h == Hash.RIPEMD160:
        try:
            return hashlib.new("ripemd160", data).digest()
        except ValueError:
            raise not_supported("RIPEMD-160 is not available in this OpenSSL") from None
    d = hashes.Hash(hash_algorithm(h))
    d.update(data)
    return d.finalize()


class SoftwareProvider(KeyProvider):
    provider_id = ProviderId.MBED_CRYPTO
    description = ("Software provider built on the Python cryptography package; keys wrapped "
                   "with AES-256-GCM at rest")

    def __init__(self, store: KeyStore, kek: bytes, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.wrapper = KeyWrapper(kek, self.name)

    @classmethod
    def from_config(cls, pc: ProviderConfig, config: Config, store: KeyStore,
                    limits: ServiceLimits) -> SoftwareProvider:
        opts = dict(pc.options)
        kek_path = opts.pop("kek_path", None)
        if opts:
            raise ConfigError(f"{config.source}: [[provider]] {pc.provider_type}: unknown key(s) "
                              f"{', '.join(sorted(opts))}")
        if kek_path is None:
            kek_path = os.path.join(os.path.dirname(store.path), "software-provider.kek")
        elif not isinstance(kek_path, str):
            raise ConfigError(f"{config.source}: [[provider]] kek_path: expected a string")
        elif not os.path.isabs(kek_path):
            kek_path = os.path.join(config.base_dir, kek_path)
        return cls(store, load_or_create_kek(kek_path), pc.name, limits)

    # -- key material -----------------------------------------------------------------------

    @contextmanager
    def material(self, rec: KeyRecord) -> Iterator[bytearray]:
        buf = self.wrapper.unwrap(rec.owner, rec.key_name, rec.key_id)
        try:
            yield buf
        finally:
            wipe(buf)

    def private_key(self, rec: KeyRecord) -> keys.PrivateKey:
        with self.material(rec) as m:
            return keys.load_private(m, rec.attributes)

    def public_key(self, rec: KeyRecord) -> keys.PublicKey:
        with self.material(rec) as m:
            if rec.attributes.key_type.is_key_pair:
                return keys.load_private(m, rec.attributes).public_key()
            return keys.load_public(m, rec.attributes)

    def _store_new(self, app: Identity, name: str, attrs: KeyAttributes, material: bytearray) -> None:
        try:
            self.create(app, name, attrs, lambda: self.wrapper.wrap(app, name, material))
        finally:
            wipe(material)

    # -- key management -----------------------------------------------------------------------

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        check_not_deprecated(req.attributes, self.limits.allow_deprecated)
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        self._store_new(app, req.key_name, req.attributes, keys.generate(req.attributes))
        return EmptyResult()

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        material, bits = keys.import_material(req.attributes, req.data)
        attrs = dataclasses.replace(req.attributes, key_bits=bits)
        self._store_new(app, req.key_name, attrs, material)
        return EmptyResult()

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        self.remove(app, req.key_name)
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if not rec.attributes.key_type.is_asymmetric:
            raise invalid_argument("only asymmetric keys have a public key")
        return KeyDataResult(keys.export_public(self.public_key(rec)))

    def psa_export_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if not rec.attributes.usage.export:
            raise not_permitted("the key's policy does not allow export")
        with self.material(rec) as m:
            return KeyDataResult(bytes(m))

    # -- signatures -----------------------------------------------------------------------------

    def _sign(self, rec: KeyRecord, alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW or alg.kind == SignKind.ECDSA_ANY:
            raise not_supported(f"{alg.kind.name} is not supported by the software provider")
        if rec.attributes.key_type.is_public_key:
            raise invalid_argument("a public key cannot sign")
        assert isinstance(alg.hash, Hash)
        h = hash_algorithm(alg.hash)
        algo: hashes.HashAlgorithm | Prehashed = Prehashed(h) if prehashed else h
        key = self.private_key(rec)
        if isinstance(key, rsa.RSAPrivateKey):
            pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH)
            return key.sign(data, pad, algo)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            det = alg.kind == SignKind.DETERMINISTIC_ECDSA
            der = key.sign(data, ec.ECDSA(algo, deterministic_signing=det))
            r, s = decode_dss_signature(der)
            n = keys.scalar_len(key.curve.key_size)
            return r.to_bytes(n, "big") + s.to_bytes(n, "big")
        raise invalid_argument("this key type cannot sign")

    def _verify(self, rec: KeyRecord, alg: SignAlg, data: bytes, signature: bytes,
                prehashed: bool) -> None:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW or alg.kind == SignKind.ECDSA_ANY:
            raise not_supported(f"{alg.kind.name} is not supported by the software provider")
        assert isinstance(alg.hash, Hash)
        h = hash_algorithm(alg.hash)
        algo: hashes.HashAlgorithm | Prehashed = Prehashed(h) if prehashed else h
        pub = self.public_key(rec)
        bad = ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "signature is not valid")
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), padding.PSS.AUTO)
                pub.verify(signature, data, pad, algo)
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                n = keys.scalar_len(pub.curve.key_size)
                if len(signature) != 2 * n:
                    raise bad
                der = encode_dss_signature(int.from_bytes(signature[:n], "big"),
                                           int.from_bytes(signature[n:], "big"))
                pub.verify(der, data, ec.ECDSA(algo))
            else:
                raise invalid_argument("this key type cannot verify")
        except InvalidSignature:
            raise bad from None

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_hash", "signing hashes")
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self._sign(rec, req.alg, req.hash, prehashed=True))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_hash", "verifying hash signatures")
        check_sign_hash_length(req.alg, req.hash)
        self._verify(rec, req.alg, req.hash, req.signature, prehashed=True)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_message", "signing messages")
        return SignatureResult(self._sign(rec, req.alg, req.message, prehashed=False))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_message", "verifying messages")
        self._verify(rec, req.alg, req.message, req.signature, prehashed=False)
        return EmptyResult()

    # -- keyless operations ---------------------------------------------------------------------

    def psa_generate_random(self, app: Identity | None,
                            req: PsaGenerateRandomRequest) -> PsaGenerateRandomResult:
        if req.size > self.limits.buffer_size_limit:
            raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                              f"{req.size} random bytes exceed buffer_size_limit")
        return PsaGenerateRandomResult(os.urandom(req.size))

    def psa_hash_compute(self, app: Identity | None,
                         req: PsaHashComputeRequest) -> PsaHashComputeResult:
        return PsaHashComputeResult(digest(req.alg, req.input))

    def psa_hash_compare(self, app: Identity | None, req: PsaHashCompareRequest) -> EmptyResult:
        if not hmac.compare_digest(digest(req.alg, req.input), req.hash):
            raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "hash does not match")
        return EmptyResult()


__all__ = ["SoftwareProvider"]
