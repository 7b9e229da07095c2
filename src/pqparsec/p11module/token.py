"""The module's state and logic in plain Python: slots, sessions, objects and operations.

`pqparsec.p11module.glue` turns C calls into calls of `Module` and its answers into C memory.
Every method raises `P11Error` (or a client-library error, which `mapping.ckr_for` turns into a
CKR_ value). The service is asked for everything: keys (ListKeys), their public parts
(PsaExportPublicKey), the operations and the capabilities (CanDoCrypto)."""

from __future__ import annotations

import itertools
import os
import struct
import threading
import tomllib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from pqparsec.client import BasicClient, keys
from pqparsec.client.errors import KeyNotFound, ServiceError
from pqparsec.p11module import constants as c
from pqparsec.p11module.mapping import (
    CKM_TO_HASH,
    CURVE_OIDS,
    EDWARDS_NAMES,
    MGF_TO_HASH,
    OID_OF_CURVE,
    PSS,
    SIGN_MECHANISMS,
    P11Error,
    SignMech,
    ckk_of,
    der_octet_string,
    encrypt_alg_for,
    family_fits_key,
    key_id,
    mechanisms_of_policy,
    plan_signature,
    policy_permits_mech,
    signature_length,
)
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)

LIBRARY_VERSION = (0, 1)
MANUFACTURER = "pqparsec"
PROVIDER_NAMES = {ProviderId.MBED_CRYPTO: "software", ProviderId.PKCS11: "pkcs11",
                  ProviderId.TPM: "tpm", ProviderId.TRUSTED_SERVICE: "trusted-service",
                  ProviderId.CRYPTOAUTHLIB: "cryptoauthlib"}
RANDOM_CHUNK = 1024  # bytes per PsaGenerateRandom request
# Key sizes reported by C_GetMechanismInfo (the service has the last word at generation).
EC_SIZES = (256, 521)
EDWARDS_SIZES = (255, 448)
RSA_SIZES = (1024, 4096)


def ulong(v: int) -> bytes:
    return struct.pack("@L", v)


def bbool(v: bool) -> bytes:
    return b"\x01" if v else b"\x00"


def read_ulong(v: bytes) -> int:
    if len(v) != struct.calcsize("@L"):
        raise P11Error(c.CKR_ATTRIBUTE_VALUE_INVALID, "a CK_ULONG attribute of the wrong size")
    return int(struct.unpack("@L", v)[0])


def read_bool(v: bytes) -> bool:
    if len(v) != 1:
        raise P11Error(c.CKR_ATTRIBUTE_VALUE_INVALID, "a CK_BBOOL attribute of the wrong size")
    return v != b"\x00"


SENSITIVE = object()  # an attribute that exists but is never revealed


@dataclass
class Config:
    endpoint: str | None = None
    app_name: str | None = None
    timeout: float = 60.0

    @classmethod
    def load(cls) -> Config:
        """$PQPARSEC_P11_CONFIG (a TOML file: endpoint, app_name, timeout), then the environment:
        PARSEC_SERVICE_ENDPOINT and PQPARSEC_P11_APP_NAME override the file."""
        cfg = cls()
        path = os.environ.get("PQPARSEC_P11_CONFIG")
        if path:
            try:
                with open(path, "rb") as f:
                    data = tomllib.load(f)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise P11Error(c.CKR_GENERAL_ERROR, f"module config {path}: {exc}") from None
            cfg.endpoint = data.get("endpoint")
            cfg.app_name = data.get("app_name")
            cfg.timeout = float(data.get("timeout", cfg.timeout))
        cfg.endpoint = os.environ.get("PARSEC_SERVICE_ENDPOINT") or cfg.endpoint
        cfg.app_name = os.environ.get("PQPARSEC_P11_APP_NAME") or cfg.app_name
        return cfg


@dataclass
class KeyObject:
    handle: int
    slot: int
    name: str
    cls: int  # CKO_PRIVATE_KEY, CKO_PUBLIC_KEY or CKO_SECRET_KEY
    attrs: KeyAttributes


@dataclass
class Operation:
    obj: KeyObject
    mech: int
    sign: SignMech | None = None
    hash_param: Hash | None = None  # PSS / OAEP parameter hash
    label: bytes = b""  # OAEP label
    data: bytearray = field(default_factory=bytearray)
    result: bytes | None = None  # a decryption done for a length query


@dataclass
class Session:
    handle: int
    slot: int
    rw: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    find: list[int] | None = None
    ops: dict[str, Operation] = field(default_factory=dict)


@dataclass(frozen=True)
class MechInfo:
    min_size: int
    max_size: int
    flags: int


class Module:
    """One per process (the loaded library); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.client: BasicClient | None = None
        self._sessions: dict[int, Session] = {}
        self._session_ids = itertools.count(1)
        self._handles: dict[tuple[int, str, int], int] = {}
        self._objects: dict[int, KeyObject] = {}
        self._handle_ids = itertools.count(1)
        self._logged_in: set[int] = set()
        self._pub_cache: dict[tuple[int, str], tuple[KeyAttributes, bytes]] = {}
        self._mechs: dict[int, dict[int, MechInfo]] = {}
        self._providers: dict[int, ops.ProviderInfo] = {}

    # -- library ----------------------------------------------------------------------------------

    def initialize(self) -> None:
        with self._lock:
            if self.client is not None:
                raise P11Error(c.CKR_CRYPTOKI_ALREADY_INITIALIZED)
            cfg = Config.load()
            self.client = BasicClient(app_name=cfg.app_name, endpoint=cfg.endpoint,
                                      timeout=cfg.timeout)

    def finalize(self) -> None:
        with self._lock:
            self._need_client()
            self.client = None
            self._sessions.clear()
            self._logged_in.clear()
            self._pub_cache.clear()
            self._mechs.clear()
            self._providers.clear()

    def _need_client(self) -> BasicClient:
        client = self.client
        if client is None:
            raise P11Error(c.CKR_CRYPTOKI_NOT_INITIALIZED)
        return client

    def info(self) -> dict[str, Any]:
        self._need_client()
        return {"manufacturer": MANUFACTURER, "description": "pqparsec PKCS#11 module",
                "version": LIBRARY_VERSION}

    # -- slots and tokens ---------------------------------------------------------------------

    def slots(self) -> list[int]:
        """One slot per provider holding keys of the caller, and the service's first provider
        (where C_GenerateKeyPair makes keys when the caller has none yet)."""
        client = self._need_client()
        providers = [p for p in client.list_providers() if p.id != ProviderId.CORE]
        with self._lock:
            self._providers = {p.id: p for p in providers}
        with_keys = {k.provider_id for k in client.list_keys(include_extensions=True)}
        return [p.id for i, p in enumerate(providers) if i == 0 or p.id in with_keys]

    def _provider(self, slot: int) -> ops.ProviderInfo:
        self._need_client()
        with self._lock:
            known = self._providers.get(slot)
        if known is None:
            self.slots()
            with self._lock:
                known = self._providers.get(slot)
        if known is None:
            raise P11Error(c.CKR_SLOT_ID_INVALID)
        return known

    def slot_info(self, slot: int) -> dict[str, Any]:
        p = self._provider(slot)
        return {"description": f"pqparsec {PROVIDER_NAMES.get(ProviderId(p.id), p.description)} "
                               f"provider ({p.description})",
                "manufacturer": p.vendor or MANUFACTURER,
                "flags": c.CKF_TOKEN_PRESENT,
                "hw": (p.version_maj, p.version_min), "fw": (p.version_maj, p.version_min)}

    def token_info(self, slot: int) -> dict[str, Any]:
        p = self._provider(slot)
        name = PROVIDER_NAMES.get(ProviderId(p.id), f"provider-{p.id}")
        with self._lock:
            sessions = [s for s in self._sessions.values() if s.slot == slot]
        return {"label": f"pqparsec {name}", "manufacturer": p.vendor or MANUFACTURER,
                "model": name, "serial": p.uuid.replace("-", "")[:16],
                "flags": c.CKF_RNG | c.CKF_TOKEN_INITIALIZED | c.CKF_USER_PIN_INITIALIZED,
                "sessions": len(sessions), "rw_sessions": sum(1 for s in sessions if s.rw),
                "version": (p.version_maj, p.version_min)}

    def mechanisms(self, slot: int) -> dict[int, MechInfo]:
        self._provider(slot)
        with self._lock:
            known = self._mechs.get(slot)
        if known is not None:
            return known
        # CKF_HW: the token (the service) performs them, not this library.
        found = {m: MechInfo(i.min_size, i.max_size, i.flags | c.CKF_HW)
                 for m, i in self._probe_mechanisms(slot).items()}
        with self._lock:
            self._mechs[slot] = found
        return found

    def _can(self, slot: int, check: ops.CheckType, kt: KeyType, bits: int, alg: Any,
             **usage: bool) -> bool:
        client = self._need_client()
        attrs = KeyAttributes(kt, bits, KeyPolicy(UsageFlags(**usage), alg))
        try:
            client.call(Opcode.CAN_DO_CRYPTO, ops.CanDoCryptoRequest(check, attrs), provider=slot)
        except ServiceError:
            return False
        return True

    def _probe_mechanisms(self, slot: int) -> dict[int, MechInfo]:
        """Ask CanDoCrypto about each mechanism's PSA counterpart on a typical key."""
        use, gen = ops.CheckType.USE, ops.CheckType.GENERATE
        ec, rsa_kt = KeyType.ecc_key_pair(EccFamily.SECP_R1), KeyType.rsa_key_pair()
        ed = KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS)
        sv = c.CKF_SIGN | c.CKF_VERIFY
        ec_flags = c.CKF_EC_F_P | c.CKF_EC_NAMEDCURVE | c.CKF_EC_UNCOMPRESS
        out: dict[int, MechInfo] = {}
        sign_use = {"sign_hash": True, "verify_hash": True}
        for mech, sm in SIGN_MECHANISMS.items():
            h = sm.hash or Hash.SHA_256
            if sm.family == "ecdsa":
                ok = self._can(slot, use, ec, 256, SignAlg(SignKind.ECDSA, h), **sign_use)
                info = MechInfo(*EC_SIZES, sv | ec_flags)
            elif sm.family == "eddsa":
                ok = self._can(slot, use, ed, 255, SignAlg(SignKind.PURE_EDDSA),
                               sign_message=True, verify_message=True)
                info = MechInfo(*EDWARDS_SIZES, sv)
            else:
                kind = SignKind.RSA_PSS if sm.family == PSS else SignKind.RSA_PKCS1V15_SIGN
                ok = self._can(slot, use, rsa_kt, 2048, SignAlg(kind, h), **sign_use)
                info = MechInfo(*RSA_SIZES, sv)
            if ok:
                out[mech] = info
        ed_ok = self._can(slot, use, rsa_kt, 2048, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT),
                          encrypt=True, decrypt=True)
        if ed_ok:
            prev = out.get(c.CKM_RSA_PKCS)
            out[c.CKM_RSA_PKCS] = MechInfo(*RSA_SIZES, (prev.flags if prev else 0)
                                           | c.CKF_ENCRYPT | c.CKF_DECRYPT)
        if self._can(slot, use, rsa_kt, 2048, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256),
                     encrypt=True, decrypt=True):
            out[c.CKM_RSA_PKCS_OAEP] = MechInfo(*RSA_SIZES, c.CKF_ENCRYPT | c.CKF_DECRYPT)
        if self._can(slot, gen, ec, 256, SignAlg(SignKind.ECDSA, ANY_HASH), **sign_use):
            out[c.CKM_EC_KEY_PAIR_GEN] = MechInfo(*EC_SIZES, c.CKF_GENERATE_KEY_PAIR | ec_flags)
        if self._can(slot, gen, rsa_kt, 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH),
                     **sign_use):
            out[c.CKM_RSA_PKCS_KEY_PAIR_GEN] = MechInfo(*RSA_SIZES, c.CKF_GENERATE_KEY_PAIR)
        if c.CKM_EDDSA in out and self._can(slot, gen, ed, 255, SignAlg(SignKind.PURE_EDDSA),
                                            sign_message=True, verify_message=True):
            out[c.CKM_EC_EDWARDS_KEY_PAIR_GEN] = MechInfo(*EDWARDS_SIZES, c.CKF_GENERATE_KEY_PAIR)
        return out

    # -- sessions -----------------------------------------------------------------------------

    def open_session(self, slot: int, flags: int) -> int:
        self._provider(slot)
        if not flags & c.CKF_SERIAL_SESSION:
            raise P11Error(c.CKR_SESSION_PARALLEL_NOT_SUPPORTED)
        with self._lock:
            h = next(self._session_ids)
            self._sessions[h] = Session(h, slot, bool(flags & c.CKF_RW_SESSION))
            return h

    def session(self, handle: int) -> Session:
        self._need_client()
        with self._lock:
            s = self._sessions.get(handle)
        if s is None:
            raise P11Error(c.CKR_SESSION_HANDLE_INVALID)
        return s

    def close_session(self, handle: int) -> None:
        s = self.session(handle)
        with self._lock:
            self._sessions.pop(handle, None)
            if not any(x.slot == s.slot for x in self._sessions.values()):
                self._logged_in.discard(s.slot)

    def close_all(self, slot: int) -> None:
        self._provider(slot)
        with self._lock:
            for h in [h for h, s in self._sessions.items() if s.slot == slot]:
                del self._sessions[h]
            self._logged_in.discard(slot)

    def session_info(self, handle: int) -> tuple[int, int, int]:
        s = self.session(handle)
        with self._lock:
            user = s.slot in self._logged_in
        state = (c.CKS_RW_USER_FUNCTIONS if user else c.CKS_RW_PUBLIC_SESSION) if s.rw else \
            (c.CKS_RO_USER_FUNCTIONS if user else c.CKS_RO_PUBLIC_SESSION)
        flags = c.CKF_SERIAL_SESSION | (c.CKF_RW_SESSION if s.rw else 0)
        return s.slot, state, flags

    def login(self, handle: int, user_type: int) -> None:
        """Any PIN, or none: the service authenticates the caller by itself."""
        s = self.session(handle)
        if user_type == c.CKU_CONTEXT_SPECIFIC:
            return
        if user_type not in (c.CKU_USER, c.CKU_SO):
            raise P11Error(c.CKR_USER_TYPE_INVALID)
        with self._lock:
            if s.slot in self._logged_in:
                raise P11Error(c.CKR_USER_ALREADY_LOGGED_IN)
            self._logged_in.add(s.slot)

    def logout(self, handle: int) -> None:
        s = self.session(handle)
        with self._lock:
            if s.slot not in self._logged_in:
                raise P11Error(c.CKR_USER_NOT_LOGGED_IN)
            self._logged_in.discard(s.slot)

    # -- objects ------------------------------------------------------------------------------

    def refresh(self, slot: int) -> list[KeyObject]:
        """The slot's objects now, from ListKeys. Handles stay the same while a key exists."""
        client = self._need_client()
        infos = [k for k in client.list_keys(include_extensions=True) if k.provider_id == slot]
        found: list[KeyObject] = []
        with self._lock:
            for cache_key in [k for k in self._pub_cache if k[0] == slot]:
                del self._pub_cache[cache_key]
            live: set[tuple[int, str, int]] = set()
            for info in infos:
                kt = info.attributes.key_type
                if ckk_of(kt) is None:
                    continue  # ML-KEM, X-Wing, DH...: nothing PKCS#11 2.40 can describe
                if kt.is_key_pair:
                    classes = [c.CKO_PRIVATE_KEY, c.CKO_PUBLIC_KEY]
                elif kt.is_public_key:
                    classes = [c.CKO_PUBLIC_KEY]
                else:
                    classes = [c.CKO_SECRET_KEY]
                for cls in classes:
                    ident = (slot, info.name, cls)
                    live.add(ident)
                    h = self._handles.get(ident)
                    if h is None:
                        h = self._handles[ident] = next(self._handle_ids)
                    obj = KeyObject(h, slot, info.name, cls, info.attributes)
                    self._objects[h] = obj
                    found.append(obj)
            for ident in [i for i in self._handles if i[0] == slot and i not in live]:
                self._objects.pop(self._handles.pop(ident), None)
        return found

    def obj(self, session: Session, handle: int,
            bad: int = c.CKR_OBJECT_HANDLE_INVALID) -> KeyObject:
        with self._lock:
            o = self._objects.get(handle)
        if o is None or o.slot != session.slot:
            raise P11Error(bad)
        return o

    def _public(self, o: KeyObject) -> tuple[KeyAttributes, bytes]:
        """The key's PSA public export (cached until the next refresh of the slot)."""
        with self._lock:
            cached = self._pub_cache.get((o.slot, o.name))
        if cached is not None and cached[0] == o.attrs:
            return cached
        client = self._need_client()
        data = bytes(client.call(Opcode.PSA_EXPORT_PUBLIC_KEY, ops.KeyNameRequest(o.name),
                                 provider=o.slot).data)
        with self._lock:
            self._pub_cache[(o.slot, o.name)] = (o.attrs, data)
        return o.attrs, data

    def attribute(self, o: KeyObject, a: int) -> bytes | object | None:
        """The value of attribute `a`: bytes, SENSITIVE, or None if the object has no such
        attribute."""
        at = o.attrs
        kt, usage, policy = at.key_type, at.usage, at.algorithm
        ckk = ckk_of(kt)
        assert ckk is not None
        common: dict[int, bytes] = {
            c.CKA_CLASS: ulong(o.cls), c.CKA_TOKEN: bbool(True), c.CKA_PRIVATE: bbool(False),
            c.CKA_MODIFIABLE: bbool(False), c.CKA_COPYABLE: bbool(False),
            c.CKA_DESTROYABLE: bbool(True), c.CKA_LABEL: o.name.encode(),
            c.CKA_ID: key_id(o.name),
            c.CKA_KEY_TYPE: ulong(ckk), c.CKA_DERIVE: bbool(usage.derive),
            c.CKA_LOCAL: bbool(False), c.CKA_KEY_GEN_MECHANISM: ulong(c.CK_UNAVAILABLE_INFORMATION),
            c.CKA_START_DATE: b"", c.CKA_END_DATE: b"", c.CKA_SUBJECT: b"",
            c.CKA_ALLOWED_MECHANISMS: b"".join(ulong(m) for m in mechanisms_of_policy(kt, policy)),
        }
        if a in common:
            return common[a]
        signs = usage.sign_hash or usage.sign_message
        verifies = usage.verify_hash or usage.verify_message
        if o.cls == c.CKO_SECRET_KEY:
            secret = {c.CKA_SENSITIVE: bbool(True), c.CKA_EXTRACTABLE: bbool(usage.export),
                      c.CKA_ALWAYS_SENSITIVE: bbool(True),
                      c.CKA_NEVER_EXTRACTABLE: bbool(not usage.export),
                      c.CKA_ENCRYPT: bbool(usage.encrypt), c.CKA_DECRYPT: bbool(usage.decrypt),
                      c.CKA_SIGN: bbool(signs), c.CKA_VERIFY: bbool(verifies),
                      c.CKA_WRAP: bbool(False), c.CKA_UNWRAP: bbool(False),
                      c.CKA_VALUE_LEN: ulong(at.key_bits // 8)}
            if a == c.CKA_VALUE:
                return SENSITIVE
            return secret.get(a)
        if o.cls == c.CKO_PRIVATE_KEY:
            if a in c.SENSITIVE_ATTRIBUTES:
                if kt.is_rsa or a == c.CKA_VALUE:
                    return SENSITIVE
                return None
            priv = {c.CKA_SENSITIVE: bbool(True), c.CKA_EXTRACTABLE: bbool(usage.export),
                    c.CKA_ALWAYS_SENSITIVE: bbool(True),
                    c.CKA_NEVER_EXTRACTABLE: bbool(not usage.export),
                    c.CKA_SIGN: bbool(signs), c.CKA_SIGN_RECOVER: bbool(False),
                    c.CKA_DECRYPT: bbool(usage.decrypt), c.CKA_UNWRAP: bbool(False),
                    c.CKA_ALWAYS_AUTHENTICATE: bbool(False),
                    c.CKA_WRAP_WITH_TRUSTED: bbool(False)}
            if a in priv:
                return priv[a]
        else:
            pub = {c.CKA_VERIFY: bbool(verifies), c.CKA_VERIFY_RECOVER: bbool(False),
                   c.CKA_ENCRYPT: bbool(usage.encrypt), c.CKA_WRAP: bbool(False),
                   c.CKA_TRUSTED: bbool(False)}
            if a in pub:
                return pub[a]
        return self._key_material(o, a)

    def _key_material(self, o: KeyObject, a: int) -> bytes | None:
        kt, bits = o.attrs.key_type, o.attrs.key_bits
        if kt.is_rsa:
            if a not in (c.CKA_MODULUS, c.CKA_PUBLIC_EXPONENT, c.CKA_MODULUS_BITS,
                         c.CKA_PUBLIC_KEY_INFO):
                return None
        elif a not in (c.CKA_EC_PARAMS, c.CKA_EC_POINT, c.CKA_PUBLIC_KEY_INFO):
            return None
        if a == c.CKA_MODULUS_BITS:
            return ulong(bits)
        if a == c.CKA_EC_PARAMS:
            assert kt.ecc_family is not None
            return OID_OF_CURVE.get((kt.ecc_family, bits))
        _, data = self._public(o)
        if a == c.CKA_EC_POINT:
            return der_octet_string(data)
        key = keys.public_key_from_psa(kt.public_type(), bits, data)
        if a == c.CKA_PUBLIC_KEY_INFO:
            return keys.spki_der(key)
        assert isinstance(key, rsa.RSAPublicKey)
        n = key.public_numbers()
        value = n.n if a == c.CKA_MODULUS else n.e
        return value.to_bytes((value.bit_length() + 7) // 8, "big")

    def find_init(self, handle: int, template: dict[int, bytes]) -> None:
        s = self.session(handle)
        with s.lock:
            if s.find is not None:
                raise P11Error(c.CKR_OPERATION_ACTIVE)
        matches = []
        for o in self.refresh(s.slot):
            if all(self.attribute(o, a) == v for a, v in template.items()):
                matches.append(o.handle)
        with s.lock:
            s.find = matches

    def find(self, handle: int, max_count: int) -> list[int]:
        s = self.session(handle)
        with s.lock:
            if s.find is None:
                raise P11Error(c.CKR_OPERATION_NOT_INITIALIZED)
            out, s.find = s.find[:max_count], s.find[max_count:]
            return out

    def find_final(self, handle: int) -> None:
        s = self.session(handle)
        with s.lock:
            if s.find is None:
                raise P11Error(c.CKR_OPERATION_NOT_INITIALIZED)
            s.find = None

    def destroy(self, handle: int, obj_handle: int) -> None:
        """Destroys the service key: both objects of a key pair go."""
        s = self.session(handle)
        o = self.obj(s, obj_handle)
        if not s.rw:
            raise P11Error(c.CKR_SESSION_READ_ONLY)
        client = self._need_client()
        try:
            client.call(Opcode.PSA_DESTROY_KEY, ops.KeyNameRequest(o.name), provider=o.slot)
        except KeyNotFound:
            raise P11Error(c.CKR_OBJECT_HANDLE_INVALID) from None
        self.refresh(s.slot)

    # -- key generation -----------------------------------------------------------------------

    def generate_key_pair(self, handle: int, mech: int, pub_t: dict[int, bytes],
                          priv_t: dict[int, bytes]) -> tuple[int, int]:
        s = self.session(handle)
        if not s.rw:
            raise P11Error(c.CKR_SESSION_READ_ONLY)
        both = {**pub_t, **priv_t}
        for t, cls in ((pub_t, c.CKO_PUBLIC_KEY), (priv_t, c.CKO_PRIVATE_KEY)):
            if c.CKA_CLASS in t and read_ulong(t[c.CKA_CLASS]) != cls:
                raise P11Error(c.CKR_TEMPLATE_INCONSISTENT)
        label_raw = priv_t.get(c.CKA_LABEL) or pub_t.get(c.CKA_LABEL)
        name = label_raw.decode("utf-8", "replace") if label_raw else \
            "p11-" + os.urandom(6).hex()
        allowed: list[int] = []
        if c.CKA_ALLOWED_MECHANISMS in both:
            raw = both[c.CKA_ALLOWED_MECHANISMS]
            size = struct.calcsize("@L")
            allowed = [struct.unpack_from("@L", raw, i)[0] for i in range(0, len(raw), size)]
        decrypt = read_bool(priv_t[c.CKA_DECRYPT]) if c.CKA_DECRYPT in priv_t else False
        rsa_decrypt = decrypt and mech == c.CKM_RSA_PKCS_KEY_PAIR_GEN
        # A template that asks for decryption and says nothing of signing gets a decryption key.
        sign = read_bool(priv_t[c.CKA_SIGN]) if c.CKA_SIGN in priv_t else not rsa_decrypt
        verify = read_bool(pub_t[c.CKA_VERIFY]) if c.CKA_VERIFY in pub_t else sign
        export = read_bool(priv_t[c.CKA_EXTRACTABLE]) if c.CKA_EXTRACTABLE in priv_t else False
        sign_usage = UsageFlags(export=export, sign_hash=sign, verify_hash=verify,
                                sign_message=sign, verify_message=verify)
        policy: Any
        if mech in (c.CKM_EC_KEY_PAIR_GEN, c.CKM_EC_EDWARDS_KEY_PAIR_GEN):
            params = pub_t.get(c.CKA_EC_PARAMS) or priv_t.get(c.CKA_EC_PARAMS)
            if params is None:
                raise P11Error(c.CKR_TEMPLATE_INCOMPLETE, "CKA_EC_PARAMS names the curve")
            curve = CURVE_OIDS.get(params) or EDWARDS_NAMES.get(params)
            if curve is None:
                raise P11Error(c.CKR_CURVE_NOT_SUPPORTED, "unknown curve")
            family, bits = curve
            edwards = family == EccFamily.TWISTED_EDWARDS
            if edwards != (mech == c.CKM_EC_EDWARDS_KEY_PAIR_GEN):
                raise P11Error(c.CKR_TEMPLATE_INCONSISTENT, "the curve does not fit the mechanism")
            kt = KeyType.ecc_key_pair(family)
            policy = SignAlg(SignKind.PURE_EDDSA) if edwards else \
                self._ecdsa_policy(allowed)
            usage = sign_usage
        elif mech == c.CKM_RSA_PKCS_KEY_PAIR_GEN:
            if c.CKA_MODULUS_BITS not in pub_t:
                raise P11Error(c.CKR_TEMPLATE_INCOMPLETE, "CKA_MODULUS_BITS")
            bits = read_ulong(pub_t[c.CKA_MODULUS_BITS])
            exp = pub_t.get(c.CKA_PUBLIC_EXPONENT)
            if exp is not None and int.from_bytes(exp, "big") != 65537:
                raise P11Error(c.CKR_ATTRIBUTE_VALUE_INVALID, "the service uses exponent 65537")
            kt = KeyType.rsa_key_pair()
            policy, usage = self._rsa_policy(allowed, sign, decrypt, sign_usage, export)
        else:
            raise P11Error(c.CKR_MECHANISM_INVALID)
        client = self._need_client()
        attrs = KeyAttributes(kt, bits, KeyPolicy(usage, policy))
        client.call(Opcode.PSA_GENERATE_KEY, ops.PsaGenerateKeyRequest(name, attrs),
                    provider=s.slot)
        self.refresh(s.slot)
        with self._lock:
            return (self._handles[(s.slot, name, c.CKO_PUBLIC_KEY)],
                    self._handles[(s.slot, name, c.CKO_PRIVATE_KEY)])

    @staticmethod
    def _ecdsa_policy(allowed: list[int]) -> SignAlg:
        """ECDSA with any hash, unless CKA_ALLOWED_MECHANISMS names exactly one hashed ECDSA
        mechanism (and not CKM_ECDSA): then ECDSA with that hash."""
        hashes = {SIGN_MECHANISMS[m].hash for m in allowed
                  if m in SIGN_MECHANISMS and SIGN_MECHANISMS[m].family == "ecdsa"}
        if len(hashes) == 1 and None not in hashes:
            h = hashes.pop()
            assert h is not None
            return SignAlg(SignKind.ECDSA, h)
        return SignAlg(SignKind.ECDSA, ANY_HASH)

    @staticmethod
    def _rsa_policy(allowed: list[int], sign: bool, decrypt: bool, sign_usage: UsageFlags,
                    export: bool) -> tuple[Any, UsageFlags]:
        """One permitted algorithm per service key: PKCS#1 v1.5 signatures with any hash, PSS
        when CKA_ALLOWED_MECHANISMS names only PSS mechanisms, RSA-OAEP(SHA-256) for a key that
        decrypts and does not sign (or whose allowed mechanisms are CKM_RSA_PKCS_OAEP)."""
        families = {SIGN_MECHANISMS[m].family for m in allowed if m in SIGN_MECHANISMS}
        crypt = UsageFlags(export=export, encrypt=True, decrypt=True)
        if allowed and c.CKM_RSA_PKCS_OAEP in allowed and not families:
            return EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256), crypt
        if (decrypt and not sign) and not families:
            return EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256), crypt
        if families == {PSS}:
            return SignAlg(SignKind.RSA_PSS, ANY_HASH), sign_usage
        return SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH), sign_usage

    # -- signatures -----------------------------------------------------------------------------

    def _start(self, s: Session, kind: str, op: Operation) -> None:
        with s.lock:
            if kind in s.ops:
                raise P11Error(c.CKR_OPERATION_ACTIVE)
            s.ops[kind] = op

    def op(self, handle: int, kind: str) -> Operation:
        s = self.session(handle)
        with s.lock:
            op = s.ops.get(kind)
        if op is None:
            raise P11Error(c.CKR_OPERATION_NOT_INITIALIZED)
        return op

    def end(self, handle: int, kind: str) -> None:
        s = self.session(handle)
        with s.lock:
            s.ops.pop(kind, None)

    def sign_init(self, handle: int, kind: str, mech: int, param: Hash | None,
                  key: int) -> None:
        """`kind`: "sign" or "verify"; `param`: the hash of CK_RSA_PKCS_PSS_PARAMS."""
        s = self.session(handle)
        o = self.obj(s, key, c.CKR_KEY_HANDLE_INVALID)
        sm = SIGN_MECHANISMS.get(mech)
        if sm is None:
            raise P11Error(c.CKR_MECHANISM_INVALID)
        if o.cls == c.CKO_SECRET_KEY or not family_fits_key(sm.family, o.attrs.key_type):
            raise P11Error(c.CKR_KEY_TYPE_INCONSISTENT)
        if kind == "sign" and o.cls != c.CKO_PRIVATE_KEY:
            raise P11Error(c.CKR_KEY_TYPE_INCONSISTENT, "signing needs the private key")
        usage = o.attrs.usage
        if kind == "sign" and not (usage.sign_hash or usage.sign_message):
            raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED)
        if kind == "verify" and not (usage.verify_hash or usage.verify_message):
            raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED)
        policy = o.attrs.algorithm
        if not isinstance(policy, SignAlg) or not policy_permits_mech(policy, sm):
            raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's policy is another "
                           "algorithm")
        if sm.family == PSS:
            if param is None or (sm.hash is not None and param != sm.hash):
                raise P11Error(c.CKR_MECHANISM_PARAM_INVALID)
            if not (policy.hash is ANY_HASH or policy.hash == param):
                raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED)
        self._start(s, kind, Operation(o, mech, sign=sm, hash_param=param))

    def signature_length(self, handle: int, kind: str) -> int:
        o = self.op(handle, kind).obj
        return signature_length(o.attrs.key_type, o.attrs.key_bits)

    def update(self, handle: int, kind: str, data: bytes) -> None:
        self.op(handle, kind).data += data

    def sign(self, handle: int, data: bytes | None = None) -> bytes:
        op = self.op(handle, "sign")
        try:
            payload = bytes(op.data) if data is None else data
            assert op.sign is not None and isinstance(op.obj.attrs.algorithm, SignAlg)
            plan = plan_signature(op.sign, op.obj.attrs.algorithm, payload, op.hash_param)
            client = self._need_client()
            if plan.message:
                res = client.call(Opcode.PSA_SIGN_MESSAGE, ops.PsaSignMessageRequest(
                    op.obj.name, plan.alg, plan.payload), provider=op.obj.slot)
            else:
                res = client.call(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest(
                    op.obj.name, plan.alg, plan.payload), provider=op.obj.slot)
            return bytes(res.signature)
        finally:
            self.end(handle, "sign")

    def verify(self, handle: int, data: bytes | None, signature: bytes) -> None:
        op = self.op(handle, "verify")
        try:
            o = op.obj
            if len(signature) != signature_length(o.attrs.key_type, o.attrs.key_bits):
                raise P11Error(c.CKR_SIGNATURE_LEN_RANGE)
            payload = bytes(op.data) if data is None else data
            assert op.sign is not None and isinstance(o.attrs.algorithm, SignAlg)
            plan = plan_signature(op.sign, o.attrs.algorithm, payload, op.hash_param)
            client = self._need_client()
            if plan.message:
                client.call(Opcode.PSA_VERIFY_MESSAGE, ops.PsaVerifyMessageRequest(
                    o.name, plan.alg, plan.payload, signature), provider=o.slot)
            else:
                client.call(Opcode.PSA_VERIFY_HASH, ops.PsaVerifyHashRequest(
                    o.name, plan.alg, plan.payload, signature), provider=o.slot)
        finally:
            self.end(handle, "verify")

    # -- encryption -----------------------------------------------------------------------------

    def crypt_init(self, handle: int, kind: str, mech: int, oaep: tuple[Hash, bytes] | None,
                   key: int) -> None:
        """`kind`: "encrypt" or "decrypt"; `oaep`: (hash, label) from CK_RSA_PKCS_OAEP_PARAMS."""
        s = self.session(handle)
        o = self.obj(s, key, c.CKR_KEY_HANDLE_INVALID)
        if mech not in (c.CKM_RSA_PKCS, c.CKM_RSA_PKCS_OAEP):
            raise P11Error(c.CKR_MECHANISM_INVALID)
        if not o.attrs.key_type.is_rsa:
            raise P11Error(c.CKR_KEY_TYPE_INCONSISTENT)
        if kind == "decrypt" and o.cls != c.CKO_PRIVATE_KEY:
            raise P11Error(c.CKR_KEY_TYPE_INCONSISTENT, "decryption needs the private key")
        if mech == c.CKM_RSA_PKCS_OAEP and oaep is None:
            raise P11Error(c.CKR_MECHANISM_PARAM_INVALID)
        flag = o.attrs.usage.encrypt if kind == "encrypt" else o.attrs.usage.decrypt
        policy = o.attrs.algorithm
        if not flag or not isinstance(policy, EncryptAlg):
            raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED)
        alg = encrypt_alg_for(mech, policy, oaep[0] if oaep else None)
        if alg != policy:
            raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED, "another OAEP hash")
        self._start(s, kind, Operation(o, mech, hash_param=alg.hash,
                                       label=oaep[1] if oaep else b""))

    def crypt_length(self, handle: int, kind: str, data: bytes) -> int:
        op = self.op(handle, kind)
        if kind == "encrypt":
            return (op.obj.attrs.key_bits + 7) // 8
        if op.result is None:
            op.result = self._crypt(op, kind, data)
        return len(op.result)

    def crypt(self, handle: int, kind: str, data: bytes) -> bytes:
        op = self.op(handle, kind)
        try:
            return op.result if op.result is not None else self._crypt(op, kind, data)
        finally:
            self.end(handle, kind)

    def _crypt(self, op: Operation, kind: str, data: bytes) -> bytes:
        try:
            alg = op.obj.attrs.algorithm
            assert isinstance(alg, EncryptAlg)
            client = self._need_client()
            if kind == "encrypt":
                return bytes(client.call(Opcode.PSA_ASYMMETRIC_ENCRYPT,
                                         ops.PsaAsymmetricEncryptRequest(op.obj.name, alg, data,
                                                                         op.label),
                                         provider=op.obj.slot).ciphertext)
            return bytes(client.call(Opcode.PSA_ASYMMETRIC_DECRYPT,
                                     ops.PsaAsymmetricDecryptRequest(op.obj.name, alg, data,
                                                                     op.label),
                                     provider=op.obj.slot).plaintext)
        except Exception:
            self.end_op(op, kind)
            raise

    def end_op(self, op: Operation, kind: str) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
        for s in sessions:
            with s.lock:
                if s.ops.get(kind) is op:
                    del s.ops[kind]

    # -- random -----------------------------------------------------------------------------------

    def random(self, handle: int, size: int) -> bytes:
        s = self.session(handle)
        client = self._need_client()
        out = bytearray()
        while len(out) < size:
            n = min(RANDOM_CHUNK, size - len(out))
            out += client.call(Opcode.PSA_GENERATE_RANDOM, ops.PsaGenerateRandomRequest(n),
                               provider=s.slot, authenticated=False).random_bytes
        return bytes(out)


def pss_hash(hash_alg: int, mgf: int, salt_len: int) -> Hash:
    """The one PSS form PSA has: MGF1 with the message hash, salt as long as the hash."""
    h = CKM_TO_HASH.get(hash_alg)
    if h is None or MGF_TO_HASH.get(mgf) != h or salt_len != h.digest_size:
        raise P11Error(c.CKR_MECHANISM_PARAM_INVALID, "PSS: MGF1 with the same hash and a salt "
                       "as long as the hash")
    return h


def oaep_params(hash_alg: int, mgf: int, source: int, label: bytes) -> tuple[Hash, bytes]:
    h = CKM_TO_HASH.get(hash_alg)
    if h is None or MGF_TO_HASH.get(mgf) != h or source not in (0, c.CKZ_DATA_SPECIFIED):
        raise P11Error(c.CKR_MECHANISM_PARAM_INVALID, "OAEP: MGF1 with the same hash")
    return h, label
