"""What this provider can do on this token: one declaration table, read from the token's mechanism
list at start-up (and, for RSA-OAEP, measured: tokens list CKM_RSA_PKCS_OAEP but differ in the
hashes and labels they accept). Every operation, CanDoCrypto and ListOpcodes consult it, so they
cannot disagree."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from pqparsec.protocol import psa
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    MacAlg,
    MacKind,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    crypto,
)
from pqparsec.protocol.psa.policy import (
    DEPRECATED_HASHES,
    invalid_argument,
    not_supported,
    sign_alg_compatible,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.token import Token

log = logging.getLogger(__name__)

# PSA hash -> (digest mechanism, MGF1 generator): the hashes PKCS#11 can name in PSS/OAEP parameters.
PKCS11_HASHES: dict[Hash, tuple[Mechanism, MGF]] = {
    Hash.SHA_1: (Mechanism.SHA_1, MGF.SHA1),
    Hash.SHA_224: (Mechanism.SHA224, MGF.SHA224),
    Hash.SHA_256: (Mechanism.SHA256, MGF.SHA256),
    Hash.SHA_384: (Mechanism.SHA384, MGF.SHA384),
    Hash.SHA_512: (Mechanism.SHA512, MGF.SHA512),
}
HMAC_MECHANISMS: dict[Hash, Mechanism] = {
    Hash.SHA_1: Mechanism.SHA_1_HMAC,
    Hash.SHA_224: Mechanism.SHA224_HMAC,
    Hash.SHA_256: Mechanism.SHA256_HMAC,
    Hash.SHA_384: Mechanism.SHA384_HMAC,
    Hash.SHA_512: Mechanism.SHA512_HMAC,
}
# Hashes a signature can name (we hash locally and build the DigestInfo ourselves).
SIGN_HASHES = frozenset(formats.HASH_OIDS)
RSA_LIMITS = (1024, 4096)
AES_BITS = frozenset({128, 192, 256})
GCM_TAG_LENGTHS = frozenset({4, 8, 12, 13, 14, 15, 16})
# The longest GCM nonce (IV) we hand a token. GCM defines any length, but OpenSSL 3 refuses IVs
# over 128 bytes, and SoftHSM2 on OpenSSL 3 ignores that refusal and returns a wrong ciphertext
# with CKR_OK. A token's mechanism info does not say, so longer nonces are NotSupported, as the
# software provider answers for a nonce length it need not support.
GCM_MAX_NONCE = 128
MIN_MAC_LENGTH = 4  # the shortest truncated MAC, as in the software provider
AES_BLOCK = 16
HMAC_MIN_BLOCK = 64  # the smallest block size of the HMAC hashes (SHA-1, SHA-224, SHA-256)


def compatible(kt: psa.KeyType, alg: Algorithm) -> bool:
    """Can a key of this type do this algorithm at all, on any implementation? (Using a key
    for an algorithm its type cannot do is InvalidArgument, after the policy checks.)"""
    if isinstance(alg, SignAlg):
        return sign_alg_compatible(kt, alg)
    if isinstance(alg, EncryptAlg):
        return kt.is_rsa
    if isinstance(alg, AeadAlg):
        return kt.kind == (KeyKind.CHACHA20 if alg.kind == AeadKind.CHACHA20_POLY1305
                           else KeyKind.AES)
    if isinstance(alg, MacAlg):
        return kt.kind == (KeyKind.HMAC if alg.kind == MacKind.HMAC else KeyKind.AES)
    if isinstance(alg, CipherAlg):
        return kt.kind == (KeyKind.CHACHA20 if alg.mode == CipherMode.STREAM_CIPHER
                           else KeyKind.AES)
    if isinstance(alg, KeyAgreementAlg):
        return kt.is_ecc if alg.raw == RawKeyAgreement.ECDH else kt.is_dh
    return False


@dataclass(frozen=True)
class TokenCaps:
    rsa_bits: tuple[int, int] | None = None  # RSA key sizes (bits), or no RSA
    rsa_pkcs1: bool = False  # CKM_RSA_PKCS: PKCS#1 v1.5 signatures and encryption
    rsa_pss: frozenset[Hash] = frozenset()  # CKM_RSA_PKCS_PSS with these hashes
    oaep: frozenset[Hash] = frozenset()  # CKM_RSA_PKCS_OAEP with these hashes (measured)
    oaep_label: bool = False  # ... and with a non-empty label (measured)
    ecc_bits: frozenset[int] = frozenset()  # SECP-R1 curves with CKM_EC_KEY_PAIR_GEN + CKM_ECDSA
    aes_bits: frozenset[int] = frozenset()  # AES key sizes (CKM_AES_KEY_GEN)
    aes_gcm: bool = False  # CKM_AES_GCM
    aes_cmac: bool = False  # CKM_AES_CMAC
    hmac: dict[Hash, tuple[int, int]] = field(default_factory=dict)  # hash -> key bytes min, max

    @property
    def aead(self) -> bool:
        return bool(self.aes_bits) and self.aes_gcm

    @property
    def mac(self) -> bool:
        return bool(self.hmac) or (bool(self.aes_bits) and self.aes_cmac)

    @property
    def hmac_pad(self) -> int:
        """HMAC keys shorter than this are stored zero-padded to this length, which gives the
        same MACs (RFC 2104 pads the key with zeros to the hash's block size), for tokens that
        want HMAC keys at least as long as the hash (SoftHSM). 0: no padding possible."""
        need = max((lo for lo, _ in self.hmac.values()), default=0)
        return need if need <= HMAC_MIN_BLOCK else 0

    # -- key types ---------------------------------------------------------------------------

    def check_key_type(self, attrs: KeyAttributes) -> None:
        kt = attrs.key_type
        if kt.is_rsa and self.rsa_bits:
            return
        if kt.is_ecc and kt.ecc_family in formats.ECC_FAMILIES and self.ecc_bits:
            return
        if kt.kind == KeyKind.AES and (self.aead or (self.aes_bits and self.aes_cmac)):
            return
        if kt.kind == KeyKind.HMAC and self.hmac:
            return
        raise not_supported(f"key type {kt.describe()} is not supported by this token")

    def check_key(self, attrs: KeyAttributes) -> None:
        """Type and size of a key to create (key_bits known)."""
        self.check_key_type(attrs)
        kt, bits = attrs.key_type, attrs.key_bits
        if kt.is_rsa:
            assert self.rsa_bits is not None
            lo, hi = self.rsa_bits
            if not lo <= bits <= hi:
                raise not_supported(f"RSA keys of {bits} bits are not supported ({lo}-{hi})")
        elif kt.is_ecc:
            if bits not in self.ecc_bits:
                raise not_supported(f"SECP-R1 curves of {bits} bits are not supported "
                                    f"({', '.join(map(str, sorted(self.ecc_bits)))})")
        elif kt.kind == KeyKind.AES:
            if bits not in AES_BITS:
                raise invalid_argument(f"AES keys cannot have {bits} bits")
            if bits not in self.aes_bits:
                raise not_supported(f"AES-{bits} is not supported by this token")
        elif kt.kind == KeyKind.HMAC:
            if bits == 0 or bits % 8:
                raise invalid_argument(f"HMAC keys cannot have {bits} bits")
            alg = attrs.algorithm
            if isinstance(alg, MacAlg) and alg.hash in self.hmac:
                self.check_hmac_key(alg.hash, bits)

    def check_policy(self, attrs: KeyAttributes) -> None:
        """A key to create whose policy names an algorithm of its type that this token cannot
        do (RSA-OAEP with SHA-256 on SoftHSM2, deterministic ECDSA, a cipher mode) would be
        stored but never usable: NotSupported, as CanDoCrypto answers. A policy naming an
        algorithm no key of its type can do is accepted, as by the software provider: using
        the key is then InvalidArgument. So is a parameter the algorithm does not define (a GCM
        tag or MAC length), which only the operation refuses."""
        alg = attrs.algorithm
        if isinstance(alg, NoAlgorithm) or not compatible(attrs.key_type, alg):
            return
        try:
            self.check_algorithm(alg)
        except ParsecError as exc:
            if exc.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED:
                raise not_supported(f"the key's policy names an algorithm this token cannot do: "
                                    f"{exc.message}") from None

    def check_hmac_key(self, h: Hash, bits: int) -> None:
        lo, hi = self.hmac[h]
        if not lo <= max(bits // 8, self.hmac_pad) <= hi:
            raise not_supported(f"this token takes HMAC-{h.name} keys of {lo} to {hi} bytes")

    # -- algorithms ---------------------------------------------------------------------------

    def check_sign(self, alg: SignAlg) -> None:
        """Signature schemes: the hash-and-sign ones with a hash we can encode, and the raw ones
        (PKCS#1 v1.5 without DigestInfo, ECDSA over given bytes), which the raw mechanisms do."""
        k, h = alg.kind, alg.hash
        if k == SignKind.RSA_PKCS1V15_SIGN:
            ok = self.rsa_pkcs1 and (not isinstance(h, Hash) or h in SIGN_HASHES)
        elif k == SignKind.RSA_PKCS1V15_SIGN_RAW:
            ok = self.rsa_pkcs1
        elif k == SignKind.RSA_PSS:
            ok = bool(self.rsa_pss) and (not isinstance(h, Hash) or h in self.rsa_pss)
        elif k == SignKind.ECDSA:
            ok = bool(self.ecc_bits) and (not isinstance(h, Hash) or h in SIGN_HASHES)
        elif k == SignKind.ECDSA_ANY:
            ok = bool(self.ecc_bits)
        else:
            ok = False
        if not ok:
            name = h.name if isinstance(h, Hash) else "any hash" if h is not None else ""
            raise not_supported(f"{k.name}({name}) is not supported by this token")

    def check_encrypt(self, alg: EncryptAlg, salt: bytes = b"") -> None:
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            if not self.rsa_pkcs1:
                raise not_supported("RSA PKCS#1 v1.5 encryption is not supported by this token")
            if salt:
                raise invalid_argument("RSA PKCS#1 v1.5 encryption takes no salt")
            return
        if alg.hash not in self.oaep:
            name = alg.hash.name if alg.hash is not None else "no hash"
            raise not_supported(f"RSA-OAEP with {name} is not supported by this token (it "
                                f"supports: {', '.join(h.name for h in sorted(self.oaep)) or 'none'})")
        if salt and not self.oaep_label:
            raise not_supported("this token does not support RSA-OAEP labels (salt)")

    def check_aead(self, alg: AeadAlg) -> None:
        if alg.kind != AeadKind.GCM or not self.aead:
            raise not_supported(f"{alg.kind.name} is not supported by the PKCS#11 provider")
        if alg.effective_tag_length not in GCM_TAG_LENGTHS:
            raise invalid_argument(f"GCM tags cannot be {alg.effective_tag_length} bytes")

    @staticmethod
    def check_aead_nonce(nonce: bytes) -> None:
        """A GCM nonce longer than GCM_MAX_NONCE: NotSupported (see there)."""
        if len(nonce) > GCM_MAX_NONCE:
            raise not_supported(f"GCM nonces of {len(nonce)} bytes are not supported by the "
                                f"PKCS#11 provider (at most {GCM_MAX_NONCE})")

    def check_mac(self, alg: MacAlg) -> None:
        ok = alg.hash in self.hmac if alg.kind == MacKind.HMAC else \
            alg.kind == MacKind.CMAC and bool(self.aes_bits) and self.aes_cmac
        if not ok:
            name = f"({alg.hash.name})" if alg.hash else ""
            raise not_supported(f"{alg.kind.name}{name} is not supported by this token")

    @staticmethod
    def check_mac_not_deprecated(alg: MacAlg, allow_deprecated: bool) -> None:
        """HMAC with a deprecated hash (SHA-1): DeprecatedPrimitive unless allowed, as in the
        software provider."""
        if alg.hash in DEPRECATED_HASHES and not allow_deprecated:
            assert alg.hash is not None
            raise ParsecError(ResponseStatus.DEPRECATED_PRIMITIVE,
                              f"HMAC with {alg.hash.name} is deprecated (set "
                              "core_settings.allow_deprecated = true to allow it)")

    @staticmethod
    def mac_length(alg: MacAlg) -> int:
        """The length of the MAC `alg` gives: InvalidArgument for a truncation to fewer than
        MIN_MAC_LENGTH or more bytes than the MAC has."""
        full = alg.hash.digest_size if alg.kind == MacKind.HMAC and alg.hash else AES_BLOCK
        length = full if alg.length is None else alg.length
        if not MIN_MAC_LENGTH <= length <= full:
            raise invalid_argument(f"a {alg.kind.name} MAC can be truncated to {MIN_MAC_LENGTH}-"
                                   f"{full} bytes, not {length}")
        return length

    def check_algorithm(self, alg: Algorithm) -> None:
        """Whether an algorithm (of a compatible key) can be used at all: NotSupported when the
        token cannot do it, InvalidArgument for a parameter the algorithm does not define (a GCM
        tag or MAC length)."""
        if isinstance(alg, SignAlg):
            self.check_sign(alg)
        elif isinstance(alg, EncryptAlg):
            self.check_encrypt(alg)
        elif isinstance(alg, AeadAlg):
            self.check_aead(alg)
        elif isinstance(alg, MacAlg):
            self.check_mac(alg)
            self.mac_length(alg)
        elif not isinstance(alg, NoAlgorithm):
            raise not_supported("this algorithm is not supported by the PKCS#11 provider")


def _bits_range(token: Token, mech: Mechanism) -> tuple[int, int]:
    info = token.mechanism_info(mech)
    return int(info.min_key_length or 0), int(info.max_key_length or 0)


def probe(token: Token) -> TokenCaps:
    """Read the token's capabilities (a few milliseconds; OAEP costs one small session key)."""
    mechs = token.mechanisms()
    rsa_bits = None
    if Mechanism.RSA_PKCS_KEY_PAIR_GEN in mechs:
        lo, hi = _bits_range(token, Mechanism.RSA_PKCS_KEY_PAIR_GEN)
        lo, hi = max(lo, RSA_LIMITS[0]), min(hi or RSA_LIMITS[1], RSA_LIMITS[1])
        rsa_bits = (lo, hi) if lo <= hi else None
    rsa_pkcs1 = rsa_bits is not None and Mechanism.RSA_PKCS in mechs
    rsa_pss = frozenset(h for h, (m, _) in PKCS11_HASHES.items() if m in mechs) \
        if rsa_bits and Mechanism.RSA_PKCS_PSS in mechs else frozenset()
    ecc_bits: frozenset[int] = frozenset()
    if Mechanism.EC_KEY_PAIR_GEN in mechs and Mechanism.ECDSA in mechs:
        lo, hi = _bits_range(token, Mechanism.ECDSA)
        ecc_bits = frozenset(b for b in formats.CURVES if (lo or 0) <= b <= (hi or 1 << 16))
    aes_bits: frozenset[int] = frozenset()
    if Mechanism.AES_KEY_GEN in mechs:
        lo, hi = _bits_range(token, Mechanism.AES_KEY_GEN)  # bytes for AES
        aes_bits = frozenset(b for b in AES_BITS if lo <= b // 8 <= hi)
    hmac: dict[Hash, tuple[int, int]] = {}
    if Mechanism.GENERIC_SECRET_KEY_GEN in mechs:
        for h, m in HMAC_MECHANISMS.items():
            if m in mechs:
                lo, hi = _bits_range(token, m)
                hmac[h] = (max(lo, 1), hi or 1 << 16)
    oaep: frozenset[Hash] = frozenset()
    oaep_label = False
    if rsa_bits and Mechanism.RSA_PKCS_OAEP in mechs:
        oaep, oaep_label = _probe_oaep(token)
    caps = TokenCaps(rsa_bits, rsa_pkcs1, rsa_pss, oaep, oaep_label, ecc_bits, aes_bits,
                     Mechanism.AES_GCM in mechs, Mechanism.AES_CMAC in mechs, hmac)
    log.info("%s: RSA %s, ECC %s, PSS %s, OAEP %s%s, AES %s (GCM %s, CMAC %s), HMAC %s",
             token.description, rsa_bits, sorted(ecc_bits), sorted(h.name for h in rsa_pss),
             sorted(h.name for h in oaep), " with labels" if oaep_label else "", sorted(aes_bits),
             caps.aes_gcm, caps.aes_cmac, sorted(h.name for h in hmac))
    return caps


def _probe_oaep(token: Token) -> tuple[frozenset[Hash], bool]:
    """Decrypt on the token what `cryptography` encrypted, hash by hash, with a public session key
    (no login needed, gone when the session closes)."""
    key = rsa.generate_private_key(65537, 1280)  # room for OAEP with SHA-512
    pub = key.public_key()
    n = key.private_numbers()
    template: dict[Any, Any] = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.RSA,
        Attribute.TOKEN: False, Attribute.PRIVATE: False, Attribute.SENSITIVE: False,
        Attribute.DECRYPT: True, Attribute.SIGN: False,
        Attribute.MODULUS: formats.int_bytes(n.public_numbers.n),
        Attribute.PUBLIC_EXPONENT: formats.int_bytes(n.public_numbers.e),
        Attribute.PRIVATE_EXPONENT: formats.int_bytes(n.d),
        Attribute.PRIME_1: formats.int_bytes(n.p), Attribute.PRIME_2: formats.int_bytes(n.q),
        Attribute.EXPONENT_1: formats.int_bytes(n.dmp1),
        Attribute.EXPONENT_2: formats.int_bytes(n.dmq1),
        Attribute.COEFFICIENT: formats.int_bytes(n.iqmp),
    }

    def works(s: Any, obj: Any, h: Hash, label: bytes | None) -> bool:
        algo = crypto.hash_algorithm(h)
        mech, mgf = PKCS11_HASHES[h]
        try:
            ct = pub.encrypt(b"probe", padding.OAEP(padding.MGF1(algo), algo, label))
            return bool(obj.decrypt(ct, mechanism=Mechanism.RSA_PKCS_OAEP,
                                    mechanism_param=(mech, mgf, label)) == b"probe")
        except (p11e.PKCS11Error, ValueError):
            return False

    try:
        with token.session() as s:
            obj = s.create_object(template)
            try:
                ok = frozenset(h for h in PKCS11_HASHES if works(s, obj, h, None))
                label = bool(ok) and works(s, obj, min(ok), b"label")
            finally:
                obj.destroy()
    except p11e.PKCS11Error as exc:
        log.warning("%s: could not measure RSA-OAEP support (%s); OAEP disabled",
                    token.description, type(exc).__name__)
        return frozenset(), False
    return ok, label
