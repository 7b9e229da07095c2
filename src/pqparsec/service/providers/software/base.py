"""Shared machinery of the software provider: wrapped key material, key management (classic key
types in keys.py, the extension's in pqc/), hashes and random numbers. The other operation
families live in mixins beside this module."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading

# hmac.compare_digest itself: the hmac module would load OpenSSL's libcrypto (through _hashlib),
# about 3.7 MiB of RSS that nothing else in the service process needs.
from _operator import _compare_digest as compare_digest
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
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
from pqparsec.protocol.psa import KeyAttributes, crypto
from pqparsec.protocol.psa.policy import (
    check_export,
    check_not_deprecated,
    deprecated_reason,
    invalid_argument,
    invalid_signature,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.software import keys, pqc
from pqparsec.service.providers.software.wrap import KeyWrapper, wipe

log = logging.getLogger(__name__)

KEY_CACHE_SIZE = 128  # private-key objects kept in memory (see docs/security.md)
_CacheKey = tuple[Identity, str, bytes]
FAST_OPCODES = frozenset({Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH})


class SoftwareBase(KeyProvider):
    provider_id = ProviderId.MBED_CRYPTO
    description = ("Software provider built on the Python cryptography package; keys wrapped "
                   "with AES-256-GCM at rest")

    def __init__(self, store: KeyStore, kek: bytes, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.wrapper = KeyWrapper(kek, self.name)
        # Recently used private-key objects, so a hot signing key is not unwrapped and parsed on
        # every request. An entry is used only for everything unwrap() authenticates (owner,
        # name, wrapped blob in the cache key; the attributes kept beside the key and compared,
        # by identity first, since hashing them costs more than the lookup): a row copied to
        # another owner or with altered attributes misses the cache and fails to unwrap, exactly
        # as without the cache.
        self._key_cache: OrderedDict[_CacheKey, tuple[KeyAttributes, crypto.PrivateKey]] = \
            OrderedDict()
        self._key_cache_lock = threading.Lock()
        # (owner, key name) of cached elliptic-curve keys: signing or verifying with one takes
        # tens of microseconds, less than the hand-off to a worker thread, so it runs inline.
        self._fast_keys: set[tuple[Identity, str]] = set()

    # -- key material -----------------------------------------------------------------------

    @contextmanager
    def material(self, rec: KeyRecord) -> Iterator[bytearray]:
        buf = self.wrapper.unwrap(rec.owner, rec.key_name, rec.attributes, rec.key_id)
        try:
            yield buf
        finally:
            wipe(buf)

    def private_key(self, rec: KeyRecord) -> crypto.PrivateKey:
        cache_key = (rec.owner, rec.key_name, rec.key_id)
        with self._key_cache_lock:
            entry = self._key_cache.get(cache_key)
            if entry is not None and (entry[0] is rec.attributes or entry[0] == rec.attributes):
                self._key_cache.move_to_end(cache_key)
                return entry[1]
        with self.material(rec) as m:
            key = crypto.load_private(m, rec.attributes, stored=True)
        log.debug("%s: key %r of %s unwrapped into the key cache", self.name, rec.key_name,
                  rec.owner.name)
        with self._key_cache_lock:
            self._key_cache[cache_key] = (rec.attributes, key)
            while len(self._key_cache) > KEY_CACHE_SIZE:
                old = self._key_cache.popitem(last=False)[0]
                self._fast_keys.discard((old[0], old[1]))
            if isinstance(key, ec.EllipticCurvePrivateKey):
                self._fast_keys.add((rec.owner, rec.key_name))
            else:  # a name re-used for a slower key (e.g. after DeleteClient) is fast no more
                self._fast_keys.discard((rec.owner, rec.key_name))
        return key

    def runs_inline(self, opcode: Opcode, app: Identity | None, request: Any) -> bool:
        if opcode in FAST_OPCODES and app is not None:
            return (app, request.key_name) in self._fast_keys
        return super().runs_inline(opcode, app, request)

    def forget_key(self, owner: Identity, key_name: str) -> None:
        """Drop a destroyed key's object from the cache (see `remove`)."""
        with self._key_cache_lock:
            for k in [k for k in self._key_cache if k[0] == owner and k[1] == key_name]:
                del self._key_cache[k]
            self._fast_keys.discard((owner, key_name))

    def public_key(self, rec: KeyRecord) -> crypto.PublicKey:
        if rec.attributes.key_type.is_key_pair:
            return self.private_key(rec).public_key()
        with self.material(rec) as m:
            return crypto.load_public(m, rec.attributes)

    def _store_new(self, app: Identity, name: str, attrs: KeyAttributes, material: bytearray) -> None:
        try:
            self.create(app, name, attrs, lambda: self.wrapper.wrap(app, name, attrs, material))
        finally:
            wipe(material)

    # -- key management -----------------------------------------------------------------------
    #
    # Status decisions (PSA Crypto API / Mbed TLS, the engine of Parsec's software provider):
    # - a name already taken -> AlreadyExists, checked before any key material is made;
    # - a key type or size the provider does not have (keys.KEY_SPECS) -> NotSupported, but an
    #   impossible size for a symmetric type (AES-100, 12 bits of HMAC) -> InvalidArgument;
    # - generating a public key, or with key_bits 0 -> InvalidArgument;
    # - import: data not in the PSA format of the type, or key_bits != the data's size ->
    #   InvalidArgument; a deprecated primitive is accepted with a warning in the log;
    # - generation of a deprecated primitive -> DeprecatedPrimitive unless allow_deprecated.
    # Validation happens before the key store is touched, so a failed create leaves no mapping.

    #
    # The extension's key types (pqc.handles_key_type) have their material in pqc/, and are
    # checked in the order that module has always used: policy, then the name (AlreadyExists;
    # an empty name is refused by `create`), then the material. The policy comes before the
    # deprecation check, so that a key that could never be used is NotSupported whatever
    # allow_deprecated says (HashML-DSA with SHA-1, which is no pre-hash: pqc.check_policy).

    def _require_new_name(self, app: Identity, key_name: str) -> None:
        if not key_name:
            raise invalid_argument("empty key name")
        self.require_free(app, key_name)

    def require_free(self, app: Identity, key_name: str) -> None:
        if self.store.exists(app, key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {key_name!r} already exists")

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        attrs = req.attributes
        extension = pqc.handles_key_type(attrs.key_type)
        if extension:
            pqc.check_policy(attrs)  # before the deprecation check: see above
        check_not_deprecated(attrs, self.limits.allow_deprecated)
        if extension:
            self.require_free(app, req.key_name)
            material = pqc.generate(attrs)
        else:
            self._require_new_name(app, req.key_name)
            material = keys.generate(attrs)
        self._store_new(app, req.key_name, attrs, material)
        return EmptyResult()

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        if pqc.handles_key_type(req.attributes.key_type):
            pqc.check_policy(req.attributes)
            self.require_free(app, req.key_name)
            material, bits = pqc.import_material(req.attributes, req.data)
            attrs = dataclasses.replace(req.attributes, key_bits=bits)
        else:
            self._require_new_name(app, req.key_name)
            material, bits = keys.import_material(req.attributes, req.data)
            attrs = dataclasses.replace(req.attributes, key_bits=bits)
            reason = deprecated_reason(attrs)
            if reason:
                log.warning("%s: importing key %r for %s with a deprecated primitive: %s",
                            self.name, req.key_name, app.name, reason)
        self._store_new(app, req.key_name, attrs, material)
        return EmptyResult()

    def remove(self, owner: Identity, key_name: str,
               drop_key: Callable[[KeyRecord], None] | None = None) -> None:
        """Every destruction (PsaDestroyKey, and DeleteClient through `destroy_owned`) comes
        here: the key's parsed object leaves the cache with its mapping, at once."""
        super().remove(owner, key_name, drop_key)
        self.forget_key(owner, key_name)

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        self.remove(app, req.key_name)
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if pqc.handles_key_type(rec.attributes.key_type):
            with self.material(rec) as m:
                return KeyDataResult(pqc.public_from_material(rec.attributes, m))
        if not rec.attributes.key_type.is_asymmetric:
            raise invalid_argument("only asymmetric keys have a public key")
        if rec.attributes.key_type.is_public_key:
            with self.material(rec) as m:  # stored in its export format already
                return KeyDataResult(bytes(m))
        return KeyDataResult(crypto.export_public(self.private_key(rec)))

    def psa_export_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        check_export(rec.attributes)
        with self.material(rec) as m:
            if pqc.handles_key_type(rec.attributes.key_type):
                return KeyDataResult(pqc.export_material(rec.attributes, m))
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
        return PsaHashComputeResult(crypto.digest(req.alg, req.input))

    def psa_hash_compare(self, app: Identity | None, req: PsaHashCompareRequest) -> EmptyResult:
        if not compare_digest(crypto.digest(req.alg, req.input), req.hash):
            raise invalid_signature("hash does not match")
        return EmptyResult()


