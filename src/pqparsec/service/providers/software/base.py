"""Shared machinery of the software provider: wrapped key material, key management, hashes
and random numbers. The operation families live in mixins beside this module."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives import hashes

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
)
from pqparsec.protocol.psa import Hash, KeyAttributes
from pqparsec.protocol.psa.policy import (
    check_not_deprecated,
    invalid_argument,
    not_permitted,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.wrap import KeyWrapper, wipe

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


class SoftwareBase(KeyProvider):
    provider_id = ProviderId.MBED_CRYPTO
    description = ("Software provider built on the Python cryptography package; keys wrapped "
                   "with AES-256-GCM at rest")

    def __init__(self, store: KeyStore, kek: bytes, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.wrapper = KeyWrapper(kek, self.name)

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


