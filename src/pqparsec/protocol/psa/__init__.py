"""The PSA Crypto model that travels in Parsec bodies: key types, algorithms, policies.

Plain frozen dataclasses; `pqparsec.protocol.psa.convert` maps them to and from protobuf. Enum
values equal Parsec's protobuf values, so a value is the same number in both worlds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum


class Hash(IntEnum):
    MD2 = 1
    MD4 = 2
    MD5 = 3
    RIPEMD160 = 4
    SHA_1 = 5
    SHA_224 = 6
    SHA_256 = 7
    SHA_384 = 8
    SHA_512 = 9
    SHA_512_224 = 10
    SHA_512_256 = 11
    SHA3_224 = 12
    SHA3_256 = 13
    SHA3_384 = 14
    SHA3_512 = 15

    @property
    def digest_size(self) -> int:
        return HASH_SIZES[self]


HASH_SIZES = {
    Hash.MD2: 16, Hash.MD4: 16, Hash.MD5: 16, Hash.RIPEMD160: 20, Hash.SHA_1: 20,
    Hash.SHA_224: 28, Hash.SHA_256: 32, Hash.SHA_384: 48, Hash.SHA_512: 64,
    Hash.SHA_512_224: 28, Hash.SHA_512_256: 32, Hash.SHA3_224: 28, Hash.SHA3_256: 32,
    Hash.SHA3_384: 48, Hash.SHA3_512: 64,
}


class EccFamily(IntEnum):
    SECP_K1 = 1
    SECP_R1 = 2
    SECP_R2 = 3
    SECT_K1 = 4
    SECT_R1 = 5
    SECT_R2 = 6
    BRAINPOOL_P_R1 = 7
    FRP = 8
    MONTGOMERY = 9
    # Extension (>= 100): PSA_ECC_FAMILY_TWISTED_EDWARDS (0x42). Ed25519 = 255 bits, Ed448 = 448.
    TWISTED_EDWARDS = 100


class DhFamily(IntEnum):
    RFC7919 = 0


class SlhDsaFamily(IntEnum):
    """SLH-DSA parameter-set families (extension). Our protobuf numbering; the PSA
    psa_slh_dsa_family_t value of each is `psa_value`."""

    SHA2_S = 1
    SHA2_F = 2
    SHAKE_S = 3
    SHAKE_F = 4

    @property
    def psa_value(self) -> int:
        return {1: 0x02, 2: 0x04, 3: 0x0B, 4: 0x0D}[int(self)]


class KeyKind(IntEnum):
    """The KeyType oneof member; the value is its protobuf field number."""

    RAW_DATA = 1
    HMAC = 2
    DERIVE = 3
    AES = 4
    DES = 5
    CAMELLIA = 6
    ARC4 = 7
    CHACHA20 = 8
    RSA_PUBLIC_KEY = 9
    RSA_KEY_PAIR = 10
    ECC_KEY_PAIR = 11
    ECC_PUBLIC_KEY = 12
    DH_KEY_PAIR = 13
    DH_PUBLIC_KEY = 14
    # Extension members (>= 100): PSA Crypto API 1.3/1.4 PQC extension key types, and X-Wing.
    ML_KEM_KEY_PAIR = 100  # PSA_KEY_TYPE_ML_KEM_KEY_PAIR 0x7004
    ML_KEM_PUBLIC_KEY = 101  # PSA_KEY_TYPE_ML_KEM_PUBLIC_KEY 0x4004
    ML_DSA_KEY_PAIR = 102  # PSA_KEY_TYPE_ML_DSA_KEY_PAIR 0x7002
    ML_DSA_PUBLIC_KEY = 103  # PSA_KEY_TYPE_ML_DSA_PUBLIC_KEY 0x4002
    SLH_DSA_KEY_PAIR = 104  # PSA_KEY_TYPE_SLH_DSA_KEY_PAIR(family) 0x7180 | family
    SLH_DSA_PUBLIC_KEY = 105  # PSA_KEY_TYPE_SLH_DSA_PUBLIC_KEY(family) 0x4180 | family
    XWING_KEY_PAIR = 106  # not a PSA key type
    XWING_PUBLIC_KEY = 107


# First protobuf field number / enum value of our extensions (docs/protocol-extensions.md).
EXTENSION_BASE = 100

_PAIR_TO_PUBLIC = {
    KeyKind.RSA_KEY_PAIR: KeyKind.RSA_PUBLIC_KEY,
    KeyKind.ECC_KEY_PAIR: KeyKind.ECC_PUBLIC_KEY,
    KeyKind.DH_KEY_PAIR: KeyKind.DH_PUBLIC_KEY,
    KeyKind.ML_KEM_KEY_PAIR: KeyKind.ML_KEM_PUBLIC_KEY,
    KeyKind.ML_DSA_KEY_PAIR: KeyKind.ML_DSA_PUBLIC_KEY,
    KeyKind.SLH_DSA_KEY_PAIR: KeyKind.SLH_DSA_PUBLIC_KEY,
    KeyKind.XWING_KEY_PAIR: KeyKind.XWING_PUBLIC_KEY,
}
_PUBLIC_KINDS = frozenset(_PAIR_TO_PUBLIC.values())


@dataclass(frozen=True)
class KeyType:
    kind: KeyKind
    ecc_family: EccFamily | None = None
    dh_family: DhFamily | None = None
    slh_dsa_family: SlhDsaFamily | None = None  # SLH-DSA key types only (extension)

    @property
    def is_public_key(self) -> bool:
        return self.kind in _PUBLIC_KINDS

    @property
    def is_key_pair(self) -> bool:
        return self.kind in _PAIR_TO_PUBLIC

    @property
    def is_asymmetric(self) -> bool:
        return self.is_public_key or self.is_key_pair

    @property
    def is_rsa(self) -> bool:
        return self.kind in (KeyKind.RSA_KEY_PAIR, KeyKind.RSA_PUBLIC_KEY)

    @property
    def is_ecc(self) -> bool:
        return self.kind in (KeyKind.ECC_KEY_PAIR, KeyKind.ECC_PUBLIC_KEY)

    @property
    def is_dh(self) -> bool:
        return self.kind in (KeyKind.DH_KEY_PAIR, KeyKind.DH_PUBLIC_KEY)

    @property
    def is_ml_kem(self) -> bool:
        return self.kind in (KeyKind.ML_KEM_KEY_PAIR, KeyKind.ML_KEM_PUBLIC_KEY)

    @property
    def is_ml_dsa(self) -> bool:
        return self.kind in (KeyKind.ML_DSA_KEY_PAIR, KeyKind.ML_DSA_PUBLIC_KEY)

    @property
    def is_slh_dsa(self) -> bool:
        return self.kind in (KeyKind.SLH_DSA_KEY_PAIR, KeyKind.SLH_DSA_PUBLIC_KEY)

    @property
    def is_xwing(self) -> bool:
        return self.kind in (KeyKind.XWING_KEY_PAIR, KeyKind.XWING_PUBLIC_KEY)

    @property
    def is_edwards(self) -> bool:
        return self.is_ecc and self.ecc_family == EccFamily.TWISTED_EDWARDS

    @property
    def is_extension(self) -> bool:
        """Whether only our protocol extension can express this key type."""
        return self.kind >= EXTENSION_BASE or (self.ecc_family is not None
                                               and self.ecc_family >= EXTENSION_BASE)

    def public_type(self) -> KeyType:
        """The public-key type that goes with a key pair (identity for other types)."""
        pub = _PAIR_TO_PUBLIC.get(self.kind, self.kind)
        return KeyType(pub, self.ecc_family, self.dh_family, self.slh_dsa_family)

    def describe(self) -> str:
        name = self.kind.name.replace("_", " ").title().replace(" ", "")
        if self.ecc_family is not None:
            return f"{name}({self.ecc_family.name})"
        if self.dh_family is not None:
            return f"{name}({self.dh_family.name})"
        if self.slh_dsa_family is not None:
            return f"{name}({self.slh_dsa_family.name})"
        return name

    # Constructors for the common types.
    @classmethod
    def rsa_key_pair(cls) -> KeyType:
        return cls(KeyKind.RSA_KEY_PAIR)

    @classmethod
    def rsa_public_key(cls) -> KeyType:
        return cls(KeyKind.RSA_PUBLIC_KEY)

    @classmethod
    def ecc_key_pair(cls, family: EccFamily) -> KeyType:
        return cls(KeyKind.ECC_KEY_PAIR, ecc_family=family)

    @classmethod
    def ecc_public_key(cls, family: EccFamily) -> KeyType:
        return cls(KeyKind.ECC_PUBLIC_KEY, ecc_family=family)

    @classmethod
    def simple(cls, kind: KeyKind) -> KeyType:
        return cls(kind)

    @classmethod
    def slh_dsa_key_pair(cls, family: SlhDsaFamily) -> KeyType:
        return cls(KeyKind.SLH_DSA_KEY_PAIR, slh_dsa_family=family)

    @classmethod
    def slh_dsa_public_key(cls, family: SlhDsaFamily) -> KeyType:
        return cls(KeyKind.SLH_DSA_PUBLIC_KEY, slh_dsa_family=family)


@dataclass(frozen=True)
class UsageFlags:
    export: bool = False
    copy: bool = False
    cache: bool = False
    encrypt: bool = False
    decrypt: bool = False
    sign_message: bool = False
    verify_message: bool = False
    sign_hash: bool = False
    verify_hash: bool = False
    derive: bool = False

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


# ------------------------------------------------------------------------------------------------
# Algorithms


class AnyHash:
    """The 'any hash' wildcard of a signature policy (PSA_ALG_ANY_HASH)."""

    _instance: AnyHash | None = None

    def __new__(cls) -> AnyHash:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY_HASH"


ANY_HASH = AnyHash()
SignHash = Hash | AnyHash


@dataclass(frozen=True)
class NoAlgorithm:
    pass


@dataclass(frozen=True)
class HashAlg:
    hash: Hash


class MacKind(IntEnum):
    HMAC = 1
    CBC_MAC = 2
    CMAC = 3


@dataclass(frozen=True)
class MacAlg:
    kind: MacKind
    hash: Hash | None = None  # HMAC only
    length: int | None = None  # truncated MAC length in bytes; None = full length

    def full(self) -> MacAlg:
        return MacAlg(self.kind, self.hash)


class CipherMode(IntEnum):
    STREAM_CIPHER = 1
    CTR = 2
    CFB = 3
    OFB = 4
    XTS = 5
    ECB_NO_PADDING = 6
    CBC_NO_PADDING = 7
    CBC_PKCS7 = 8


@dataclass(frozen=True)
class CipherAlg:
    mode: CipherMode


class AeadKind(IntEnum):
    CCM = 1
    GCM = 2
    CHACHA20_POLY1305 = 3


@dataclass(frozen=True)
class AeadAlg:
    kind: AeadKind
    tag_length: int | None = None  # None = the default (16 bytes)

    def default_tag(self) -> AeadAlg:
        return AeadAlg(self.kind)

    @property
    def effective_tag_length(self) -> int:
        return 16 if self.tag_length is None else self.tag_length


class SignKind(IntEnum):
    RSA_PKCS1V15_SIGN = 1
    RSA_PKCS1V15_SIGN_RAW = 2
    RSA_PSS = 3
    ECDSA = 4
    ECDSA_ANY = 5
    DETERMINISTIC_ECDSA = 6
    # Extension members (>= 100), PSA algorithm identifiers in comments.
    PURE_EDDSA = 100  # PSA_ALG_PURE_EDDSA 0x06000800
    ML_DSA = 101  # PSA_ALG_ML_DSA 0x06004400 (hedged)
    DETERMINISTIC_ML_DSA = 102  # PSA_ALG_DETERMINISTIC_ML_DSA 0x06004500
    HASH_ML_DSA = 103  # PSA_ALG_HASH_ML_DSA(hash) 0x060046hh
    DETERMINISTIC_HASH_ML_DSA = 104  # PSA_ALG_DETERMINISTIC_HASH_ML_DSA(hash) 0x060047hh
    SLH_DSA = 105  # PSA_ALG_SLH_DSA 0x06004000
    DETERMINISTIC_SLH_DSA = 106  # PSA_ALG_DETERMINISTIC_SLH_DSA 0x06004100
    HASH_SLH_DSA = 107  # PSA_ALG_HASH_SLH_DSA(hash) 0x060042hh
    DETERMINISTIC_HASH_SLH_DSA = 108  # PSA_ALG_DETERMINISTIC_HASH_SLH_DSA(hash) 0x060043hh


SIGN_KINDS_WITH_HASH = frozenset({SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS, SignKind.ECDSA,
                                  SignKind.DETERMINISTIC_ECDSA, SignKind.HASH_ML_DSA,
                                  SignKind.DETERMINISTIC_HASH_ML_DSA, SignKind.HASH_SLH_DSA,
                                  SignKind.DETERMINISTIC_HASH_SLH_DSA})
ML_DSA_KINDS = frozenset({SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA, SignKind.HASH_ML_DSA,
                          SignKind.DETERMINISTIC_HASH_ML_DSA})
SLH_DSA_KINDS = frozenset({SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA, SignKind.HASH_SLH_DSA,
                           SignKind.DETERMINISTIC_HASH_SLH_DSA})
# Signature schemes that take a context string (FIPS 204/205).
CONTEXT_SIGN_KINDS = ML_DSA_KINDS | SLH_DSA_KINDS
DETERMINISTIC_SIGN_KINDS = frozenset({SignKind.DETERMINISTIC_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA,
                                      SignKind.DETERMINISTIC_SLH_DSA,
                                      SignKind.DETERMINISTIC_HASH_SLH_DSA})
# Pre-hashed (hash-and-sign) variants of the PQC schemes: usable with sign_hash and sign_message.
PREHASH_PQC_SIGN_KINDS = frozenset({SignKind.HASH_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA,
                                    SignKind.HASH_SLH_DSA, SignKind.DETERMINISTIC_HASH_SLH_DSA})
# hedged <-> deterministic twin of each PQC scheme: equivalent for verification (PSA PQC ext.).
_SIGN_TWINS = {SignKind.ML_DSA: SignKind.DETERMINISTIC_ML_DSA,
               SignKind.HASH_ML_DSA: SignKind.DETERMINISTIC_HASH_ML_DSA,
               SignKind.SLH_DSA: SignKind.DETERMINISTIC_SLH_DSA,
               SignKind.HASH_SLH_DSA: SignKind.DETERMINISTIC_HASH_SLH_DSA}
SIGN_TWINS = {**_SIGN_TWINS, **{v: k for k, v in _SIGN_TWINS.items()}}


@dataclass(frozen=True)
class SignAlg:
    kind: SignKind
    hash: SignHash | None = None  # None for the raw / "any" kinds

    @property
    def is_rsa(self) -> bool:
        return self.kind in (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PKCS1V15_SIGN_RAW,
                             SignKind.RSA_PSS)

    @property
    def is_ecc(self) -> bool:
        return self.kind in (SignKind.ECDSA, SignKind.ECDSA_ANY, SignKind.DETERMINISTIC_ECDSA)

    @property
    def is_eddsa(self) -> bool:
        return self.kind == SignKind.PURE_EDDSA

    @property
    def is_ml_dsa(self) -> bool:
        return self.kind in ML_DSA_KINDS

    @property
    def is_slh_dsa(self) -> bool:
        return self.kind in SLH_DSA_KINDS

    @property
    def is_extension(self) -> bool:
        return self.kind >= EXTENSION_BASE


class EncryptKind(IntEnum):
    RSA_PKCS1V15_CRYPT = 1
    RSA_OAEP = 2


@dataclass(frozen=True)
class EncryptAlg:
    kind: EncryptKind
    hash: Hash | None = None  # OAEP only


class KdfKind(IntEnum):
    HKDF = 1
    TLS12_PRF = 2
    TLS12_PSK_TO_MS = 3


@dataclass(frozen=True)
class KdfAlg:
    kind: KdfKind
    hash: Hash


class RawKeyAgreement(IntEnum):
    FFDH = 1
    ECDH = 2


@dataclass(frozen=True)
class KeyAgreementAlg:
    raw: RawKeyAgreement
    kdf: KdfAlg | None = None


class KemKind(IntEnum):
    """Key-encapsulation algorithms (extension; protobuf enum Algorithm.KeyEncapsulation)."""

    ML_KEM = 1  # PSA_ALG_ML_KEM 0x0c000200 (FIPS 203)
    X_WING = 2  # X-Wing: ML-KEM-768 + X25519 (draft-connolly-cfrg-xwing-kem)


@dataclass(frozen=True)
class KemAlg:
    kind: KemKind


Algorithm = (NoAlgorithm | HashAlg | MacAlg | CipherAlg | AeadAlg | SignAlg | EncryptAlg
             | KeyAgreementAlg | KdfAlg | KemAlg)


def algorithm_is_extension(alg: Algorithm) -> bool:
    """Whether only our protocol extension can express this algorithm."""
    if isinstance(alg, KemAlg):
        return True
    return isinstance(alg, SignAlg) and alg.is_extension


# PCR indices a binding may name: the 24 PCRs every TPM 2.0 PC-client platform has.
PCR_COUNT = 24


@dataclass(frozen=True)
class PcrBinding:
    """Extension: the key is usable only while these PCRs hold the values it was bound to.

    `digest` is the `bank` hash of the PCR values concatenated in ascending index order (the
    pcrDigest of TPM2_PolicyPCR); empty in a request means "the values they hold now", and the
    provider stores the digest it bound the key to."""

    pcrs: tuple[int, ...]
    bank: Hash = Hash.SHA_256
    digest: bytes = b""

    def describe(self) -> str:
        """tpm2-tools' notation, e.g. ``sha256:7,16``."""
        return f"{self.bank.name.replace('_', '').lower()}:{','.join(map(str, self.pcrs))}"


@dataclass(frozen=True)
class KeyPolicy:
    usage_flags: UsageFlags = field(default_factory=UsageFlags)
    permitted_algorithms: Algorithm = field(default_factory=NoAlgorithm)
    pcr_binding: PcrBinding | None = None  # extension; None = no binding, as in Parsec


@dataclass(frozen=True)
class KeyAttributes:
    key_type: KeyType
    key_bits: int = 0
    policy: KeyPolicy = field(default_factory=KeyPolicy)

    @property
    def usage(self) -> UsageFlags:
        return self.policy.usage_flags

    @property
    def algorithm(self) -> Algorithm:
        return self.policy.permitted_algorithms

    @property
    def is_extension(self) -> bool:
        """Whether a Parsec client could not decode these attributes (ListKeys hides such keys
        unless asked with include_extensions)."""
        return self.key_type.is_extension or algorithm_is_extension(self.algorithm)

    @property
    def pcr_binding(self) -> PcrBinding | None:
        return self.policy.pcr_binding

    def without_extension_fields(self) -> KeyAttributes:
        """These attributes as a Parsec client may see them: extension fields that only
        qualify the key (a PCR binding) left out. The key type and algorithm are unchanged."""
        if self.policy.pcr_binding is None:
            return self
        return KeyAttributes(self.key_type, self.key_bits,
                             KeyPolicy(self.policy.usage_flags, self.policy.permitted_algorithms))


def describe_algorithm(alg: Algorithm) -> str:
    """A short human name, e.g. ``Ecdsa(SHA_256)``, for logs and the CLI."""
    if isinstance(alg, NoAlgorithm):
        return "None"
    if isinstance(alg, HashAlg):
        return alg.hash.name
    if isinstance(alg, MacAlg):
        base = alg.kind.name + (f"({alg.hash.name})" if alg.hash else "")
        return base + (f"[{alg.length}]" if alg.length is not None else "")
    if isinstance(alg, CipherAlg):
        return alg.mode.name
    if isinstance(alg, AeadAlg):
        return alg.kind.name + (f"[tag {alg.tag_length}]" if alg.tag_length is not None else "")
    if isinstance(alg, SignAlg):
        h = "" if alg.hash is None else f"({alg.hash!r})" if isinstance(alg.hash, AnyHash) \
            else f"({alg.hash.name})"
        return alg.kind.name + h
    if isinstance(alg, EncryptAlg):
        return alg.kind.name + (f"({alg.hash.name})" if alg.hash else "")
    if isinstance(alg, KeyAgreementAlg):
        return alg.raw.name + (f"+{describe_algorithm(alg.kdf)}" if alg.kdf else "")
    if isinstance(alg, KemAlg):
        return alg.kind.name
    return f"{alg.kind.name}({alg.hash.name})"
