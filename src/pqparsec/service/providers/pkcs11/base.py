"""Shared machinery of the PKCS#11 provider: the token, key objects and key management.

Every key is one or two token objects sharing a random CKA_ID, which is what the key store
records (key_id). A key pair is a private key object and a public key object; a public key is a
public key object; AES and HMAC keys are secret key objects. Private and secret objects are
CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE unless the key's policy has the export flag
and the configuration allows export; public key objects are public (readable without login).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11e

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import (
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    PsaGenerateKeyRequest,
    PsaGenerateRandomRequest,
    PsaGenerateRandomResult,
    PsaImportKeyRequest,
)
from pqparsec.protocol.psa import KeyAttributes, KeyKind, crypto
from pqparsec.protocol.psa.policy import (
    check_export,
    check_not_deprecated,
    invalid_argument,
    not_permitted,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.caps import TokenCaps, probe
from pqparsec.service.providers.pkcs11.options import Pkcs11Options
from pqparsec.service.providers.pkcs11.token import Token, to_parsec_error

log = logging.getLogger(__name__)

KEY_ID_LEN = 16
LABEL = "pqparsec"
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_PUBLIC_CACHE_SIZE = 1024
# Opcodes served only when the token has the mechanisms (available_opcodes).
AEAD_OPCODES = frozenset({Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT})
MAC_OPCODES = frozenset({Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY})


def pool_size() -> int:
    return max(2, min(8, os.cpu_count() or 2))


class Pkcs11Base(KeyProvider):
    provider_id = ProviderId.PKCS11
    description = "PKCS#11 provider: keys live on a PKCS#11 token, driven through python-pkcs11"

    def __init__(self, store: KeyStore, options: Pkcs11Options, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.options = options
        self._token: Token | None = None
        self.caps = TokenCaps()
        self._public: OrderedDict[bytes, PublicKey] = OrderedDict()
        self._public_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        o = self.options
        self._token = Token.acquire(o.library_path, o.slot_number, o.serial_number, o.user_pin,
                                    pool_size())
        log.info("%s: using %s (%s)", self.name, self._token.description,
                 "logged in" if o.user_pin is not None else "no user_pin: public objects only")
        self.caps = probe(self._token)
        super().start()  # drops mappings whose token objects are gone

    def close(self) -> None:
        tok, self._token = self._token, None
        if tok is not None:
            tok.release()

    @property
    def token(self) -> Token:
        if self._token is None:
            raise ParsecError(ResponseStatus.PSA_ERROR_BAD_STATE, f"{self.name} is not started")
        return self._token

    def available_opcodes(self) -> frozenset[Opcode]:
        """The declaration follows the token (for ListOpcodes and the dispatcher alike): no AEAD
        without CKM_AES_GCM, no MAC without HMAC or CMAC."""
        ops = self.supported_opcodes
        if not self.caps.aead:
            ops -= AEAD_OPCODES
        if not self.caps.mac:
            ops -= MAC_OPCODES
        return ops

    # -- sessions and objects -----------------------------------------------------------------

    @contextmanager
    def session(self, what: str) -> Iterator[Any]:
        """A pooled session; token errors leave as Parsec statuses."""
        try:
            with self.token.session() as s:
                yield s
        except p11e.PKCS11Error as exc:
            err = to_parsec_error(exc, f"{self.name}: {what}")
            log.debug("%s", err)
            raise err from None

    def need_login(self, what: str) -> None:
        """Private objects are invisible without login: say so rather than 'no such key'."""
        if self.options.user_pin is None:
            raise not_permitted(f"{self.name}: {what} needs the token's private objects, but no "
                                "user_pin is configured, so the provider is not logged in")

    @staticmethod
    def find(s: Any, key_id: bytes, cls: ObjectClass) -> Any | None:
        found = list(s.get_objects({Attribute.CLASS: cls, Attribute.ID: key_id}))
        if len(found) > 1:
            log.warning("%d token objects of class %s share one CKA_ID; using the first",
                        len(found), cls.name)
        return found[0] if found else None

    def require(self, s: Any, rec: KeyRecord, cls: ObjectClass) -> Any:
        obj = self.find(s, rec.key_id, cls)
        if obj is None:
            raise ParsecError(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                              f"key {rec.key_name!r}: its object is no longer on the token")
        return obj

    def backend_key_exists(self, record: KeyRecord) -> bool:
        kt = record.attributes.key_type
        logged_in = self.options.user_pin is not None
        if kt.is_public_key or (kt.is_key_pair and not logged_in):
            cls = ObjectClass.PUBLIC_KEY  # a key pair's public half is visible without login
        elif kt.is_key_pair:
            cls = ObjectClass.PRIVATE_KEY
        elif logged_in:
            cls = ObjectClass.SECRET_KEY
        else:
            return True  # cannot tell without login: keep it
        try:
            with self.session("checking a key") as s:
                return self.find(s, record.key_id, cls) is not None
        except ParsecError as exc:  # never drop a mapping on a transient failure
            log.warning("%s: could not check key %r: %s", self.name, record.key_name, exc)
            return True

    def drop_backend_key(self, record: KeyRecord) -> None:
        kt = record.attributes.key_type
        if not kt.is_public_key:
            self.need_login("destroying a key")
        self._drop_id(record.key_id)

    def _drop_id(self, key_id: bytes) -> None:
        with self._public_lock:
            self._public.pop(key_id, None)
        with self.session("destroying a key") as s:
            for obj in list(s.get_objects({Attribute.ID: key_id})):
                obj.destroy()

    # -- public keys --------------------------------------------------------------------------

    def public_key(self, rec: KeyRecord) -> PublicKey:
        """The `cryptography` public key of a key pair or public key, read once from the token."""
        with self._public_lock:
            pub = self._public.get(rec.key_id)
            if pub is not None:
                self._public.move_to_end(rec.key_id)
                return pub
        kt, bits = rec.attributes.key_type, rec.attributes.key_bits
        with self.session("reading a public key") as s:
            obj = self.find(s, rec.key_id, ObjectClass.PUBLIC_KEY)
            if obj is None and kt.is_rsa and kt.is_key_pair and self.options.user_pin is not None:
                obj = self.find(s, rec.key_id, ObjectClass.PRIVATE_KEY)  # carries n and e too
            if obj is None:
                raise ParsecError(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                                  f"key {rec.key_name!r}: its public key is no longer on the token")
            if kt.is_rsa:
                a = obj.get_attributes([Attribute.MODULUS, Attribute.PUBLIC_EXPONENT])
                pub = formats.rsa_public(a[Attribute.MODULUS], a[Attribute.PUBLIC_EXPONENT])
            else:
                point = formats.unwrap_ec_point(obj[Attribute.EC_POINT], bits)
                pub = ec.EllipticCurvePublicKey.from_encoded_point(formats.curve(bits), point)
        with self._public_lock:
            self._public[rec.key_id] = pub
            while len(self._public) > _PUBLIC_CACHE_SIZE:
                self._public.popitem(last=False)
        return pub

    # -- templates ----------------------------------------------------------------------------

    def _check_export(self, attrs: KeyAttributes) -> None:
        if attrs.usage.export and not self.options.allow_export:
            raise not_permitted(f"{self.name}: allow_export is false, so keys with the export "
                                "usage flag cannot be created")

    @staticmethod
    def _private_template(attrs: KeyAttributes, key_id: bytes) -> dict[Any, Any]:
        u = attrs.usage
        return {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.ID: key_id,
                Attribute.LABEL: LABEL, Attribute.SENSITIVE: not u.export,
                Attribute.EXTRACTABLE: u.export, Attribute.SIGN: u.sign_hash or u.sign_message,
                Attribute.DECRYPT: u.decrypt, Attribute.UNWRAP: False, Attribute.DERIVE: False}

    @staticmethod
    def _public_template(attrs: KeyAttributes, key_id: bytes) -> dict[Any, Any]:
        u = attrs.usage
        return {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.ID: key_id,
                Attribute.LABEL: LABEL, Attribute.VERIFY: u.verify_hash or u.verify_message,
                Attribute.ENCRYPT: u.encrypt, Attribute.WRAP: False}

    @staticmethod
    def _secret_template(attrs: KeyAttributes, key_id: bytes) -> dict[Any, Any]:
        u = attrs.usage
        t = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.ID: key_id,
             Attribute.LABEL: LABEL, Attribute.SENSITIVE: not u.export,
             Attribute.EXTRACTABLE: u.export, Attribute.WRAP: False, Attribute.UNWRAP: False,
             Attribute.DERIVE: False}
        mac = u.sign_message or u.verify_message  # a MAC is verified by computing it
        t.update({Attribute.SIGN: mac, Attribute.VERIFY: mac})
        if attrs.key_type.kind == KeyKind.AES:
            t.update({Attribute.ENCRYPT: u.encrypt, Attribute.DECRYPT: u.decrypt})
        return t

    # -- key management -----------------------------------------------------------------------

    def _exists(self, app: Identity, name: str) -> None:
        if self.store.exists(app, name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS, f"key {name!r} already exists")

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        attrs = req.attributes
        check_not_deprecated(attrs, self.limits.allow_deprecated)
        self._exists(app, req.key_name)
        if attrs.key_type.is_public_key:
            raise invalid_argument("a public key cannot be generated; generate the key pair")
        self.caps.check_key(attrs)
        self.caps.check_policy(attrs)
        self._check_export(attrs)
        self.need_login("generating a key")
        self.create(app, req.key_name, attrs, lambda: self._generate(attrs), self._drop_id)
        return EmptyResult()

    def _generate(self, attrs: KeyAttributes) -> bytes:
        kt, bits = attrs.key_type, attrs.key_bits
        key_id = os.urandom(KEY_ID_LEN)
        with self.session("generating a key") as s:
            if kt.is_rsa or kt.is_ecc:
                pub_t = self._public_template(attrs, key_id)
                if kt.is_rsa:
                    key_type, length = KeyType.RSA, bits
                else:
                    key_type, length = KeyType.EC, None
                    pub_t[Attribute.EC_PARAMS] = formats.ec_params(bits)
                s.generate_keypair(key_type, length, store=True, capabilities=0,
                                   public_template=pub_t,
                                   private_template=self._private_template(attrs, key_id))
            elif kt.kind == KeyKind.HMAC and bits // 8 < self.caps.hmac_pad:
                # Too short for the token to generate as an HMAC key: token randomness, stored
                # zero-padded (see TokenCaps.hmac_pad).
                value = bytes(s.generate_random(bits))
                s.create_object(self._hmac_object(attrs, key_id, value))
            else:
                key_type = KeyType.AES if kt.kind == KeyKind.AES else KeyType.GENERIC_SECRET
                s.generate_key(key_type, bits, store=True, capabilities=0,
                               template=self._secret_template(attrs, key_id))
        return key_id

    def _hmac_object(self, attrs: KeyAttributes, key_id: bytes, value: bytes) -> dict[Any, Any]:
        pad = self.caps.hmac_pad
        return {**self._secret_template(attrs, key_id), Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                Attribute.VALUE: value.ljust(pad, b"\x00") if len(value) < pad else value}

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        attrs = req.attributes
        kt = attrs.key_type
        self._exists(app, req.key_name)
        self.caps.check_key_type(attrs)
        parsed: Any
        if kt.is_key_pair:
            parsed = crypto.load_private(req.data, attrs)
            bits = crypto.key_size_bits(parsed)
        elif kt.is_public_key:
            parsed = crypto.load_public(req.data, attrs)
            bits = crypto.key_size_bits(parsed)
        else:
            parsed = bytes(req.data)
            bits = len(parsed) * 8
        if attrs.key_bits and attrs.key_bits != bits:
            raise invalid_argument(f"key_bits is {attrs.key_bits} but the key data has {bits} bits")
        attrs = dataclasses.replace(attrs, key_bits=bits)
        self.caps.check_key(attrs)
        self.caps.check_policy(attrs)
        self._check_export(attrs)
        if not kt.is_public_key:
            self.need_login("importing a private or secret key")
        self.create(app, req.key_name, attrs, lambda: self._import(attrs, parsed), self._drop_id)
        return EmptyResult()

    def _import(self, attrs: KeyAttributes, parsed: Any) -> bytes:
        kt, bits = attrs.key_type, attrs.key_bits
        key_id = os.urandom(KEY_ID_LEN)
        templates: list[dict[Any, Any]] = []
        if kt.is_rsa:
            pub_numbers = parsed.public_key().public_numbers() if kt.is_key_pair else \
                parsed.public_numbers()
            common = {Attribute.KEY_TYPE: KeyType.RSA,
                      Attribute.MODULUS: formats.int_bytes(pub_numbers.n),
                      Attribute.PUBLIC_EXPONENT: formats.int_bytes(pub_numbers.e)}
            if kt.is_key_pair:
                n = parsed.private_numbers()
                templates.append({
                    **self._private_template(attrs, key_id), **common,
                    Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.PRIVATE_EXPONENT: formats.int_bytes(n.d),
                    Attribute.PRIME_1: formats.int_bytes(n.p),
                    Attribute.PRIME_2: formats.int_bytes(n.q),
                    Attribute.EXPONENT_1: formats.int_bytes(n.dmp1),
                    Attribute.EXPONENT_2: formats.int_bytes(n.dmq1),
                    Attribute.COEFFICIENT: formats.int_bytes(n.iqmp)})
            templates.append({**self._public_template(attrs, key_id), **common,
                              Attribute.CLASS: ObjectClass.PUBLIC_KEY})
        elif kt.is_ecc:
            common = {Attribute.KEY_TYPE: KeyType.EC, Attribute.EC_PARAMS: formats.ec_params(bits)}
            pub = parsed.public_key() if kt.is_key_pair else parsed
            point = pub.public_bytes(serialization.Encoding.X962,
                                     serialization.PublicFormat.UncompressedPoint)
            if kt.is_key_pair:
                scalar = parsed.private_numbers().private_value.to_bytes(crypto.scalar_len(bits), "big")
                templates.append({**self._private_template(attrs, key_id), **common,
                                  Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                  Attribute.VALUE: scalar})
            templates.append({**self._public_template(attrs, key_id), **common,
                              Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                              Attribute.EC_POINT: formats.wrap_ec_point(point)})
        elif kt.kind == KeyKind.HMAC:
            templates.append(self._hmac_object(attrs, key_id, parsed))
        else:
            templates.append({**self._secret_template(attrs, key_id),
                              Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
                              Attribute.VALUE: parsed})
        with self.session("importing a key") as s:
            made: list[Any] = []
            try:
                for t in templates:
                    made.append(s.create_object(t))
            except BaseException:
                for obj in made:
                    try:
                        obj.destroy()
                    except p11e.PKCS11Error:
                        log.exception("%s: could not remove a half-imported key", self.name)
                raise
        return key_id

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        self.remove(app, req.key_name, self.drop_backend_key)
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if not rec.attributes.key_type.is_asymmetric:
            raise invalid_argument("only asymmetric keys have a public key")
        return KeyDataResult(crypto.export_public(self.public_key(rec)))

    def psa_export_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        attrs = rec.attributes
        check_export(attrs)  # a public key always exports; the flag guards the rest
        kt = attrs.key_type
        if kt.is_public_key:
            return KeyDataResult(crypto.export_public(self.public_key(rec)))
        if not self.options.allow_export:
            raise not_permitted(f"{self.name}: allow_export is false")
        self.need_login("exporting a key")
        with self.session("exporting a key") as s:
            try:
                return KeyDataResult(self._read_secret(s, rec))
            except p11e.AttributeSensitive:
                raise not_permitted("the token refuses to reveal this key (CKA_SENSITIVE)") from None

    def _read_secret(self, s: Any, rec: KeyRecord) -> bytes:
        attrs = rec.attributes
        kt = attrs.key_type
        if not kt.is_key_pair:  # (an HMAC key may be stored padded: see TokenCaps.hmac_pad)
            value = bytes(self.require(s, rec, ObjectClass.SECRET_KEY)[Attribute.VALUE])
            return value[:attrs.key_bits // 8]
        obj = self.require(s, rec, ObjectClass.PRIVATE_KEY)
        if kt.is_rsa:
            names = [Attribute.MODULUS, Attribute.PUBLIC_EXPONENT, Attribute.PRIVATE_EXPONENT,
                     Attribute.PRIME_1, Attribute.PRIME_2, Attribute.EXPONENT_1,
                     Attribute.EXPONENT_2, Attribute.COEFFICIENT]
            a = {k: int.from_bytes(v, "big") for k, v in obj.get_attributes(names).items()}
            key = rsa.RSAPrivateNumbers(
                a[Attribute.PRIME_1], a[Attribute.PRIME_2], a[Attribute.PRIVATE_EXPONENT],
                a[Attribute.EXPONENT_1], a[Attribute.EXPONENT_2], a[Attribute.COEFFICIENT],
                rsa.RSAPublicNumbers(a[Attribute.PUBLIC_EXPONENT], a[Attribute.MODULUS]),
            ).private_key()
            return bytes(crypto.export_private(key))
        n = crypto.scalar_len(attrs.key_bits)
        return bytes(obj[Attribute.VALUE]).rjust(n, b"\x00")[-n:]

    # -- keyless ------------------------------------------------------------------------------

    def psa_generate_random(self, app: Identity | None,
                            req: PsaGenerateRandomRequest) -> PsaGenerateRandomResult:
        if req.size > self.limits.buffer_size_limit:
            raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                              f"{req.size} random bytes exceed buffer_size_limit")
        if req.size == 0:
            return PsaGenerateRandomResult(b"")
        with self.session("generating random bytes") as s:
            data = bytes(s.generate_random(req.size * 8))  # python-pkcs11 counts bits
        return PsaGenerateRandomResult(data)
