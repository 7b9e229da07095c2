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


class DhFamily(IntEnum):
    RFC7919 = 0


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


@dataclass(frozen=True)
class KeyType:
    kind: KeyKind
    ecc_family: EccFamily | None = None
    dh_family: DhFamily | None = None

    @property
    def is_public_key(self) -> bool:
        return self.kind in (KeyKind.RSA_PUBLIC_KEY, KeyKind.ECC_PUBLIC_KEY, KeyKind.DH_PUBLIC_KEY)

    @property
    def is_key_pair(self) -> bool:
        return self.kind in (KeyKind.RSA_KEY_PAIR, KeyKind.ECC_KEY_PAIR, KeyKind.DH_KEY_PAIR)

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

    def public_type(self) -> KeyType:
        """The public-key type that goes with a key pair (identity for other types)."""
        pub = {KeyKind.RSA_KEY_PAIR: KeyKind.RSA_PUBLIC_KEY, KeyKind.ECC_KEY_PAIR: KeyKind.ECC_PUBLIC_KEY,
               KeyKind.DH_KEY_PAIR: KeyKind.DH_PUBLIC_KEY}.get(self.kind, self.kind)
        return KeyType(pub, self.ecc_family, self.dh_family)

    def describe(self) -> str:
        name = self.kind.name.replace("_", " ").title().replace(" ", "")
        if self.ecc_family is not None:
            return f"{name}({self.ecc_family.name})"
        if self.dh_family is not None:
            return f"{name}({self.dh_family.name})"
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


SIGN_KINDS_WITH_HASH = frozenset({SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS, SignKind.ECDSA,
                                  SignKind.DETERMINISTIC_ECDSA})


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


Algorithm = (NoAlgorithm | HashAlg | MacAlg | CipherAlg | AeadAlg | SignAlg | EncryptAlg
             | KeyAgreementAlg | KdfAlg)


@dataclass(frozen=True)
class KeyPolicy:
    usage_flags: UsageFlags = field(default_factory=UsageFlags)
    permitted_algorithms: Algorithm = field(default_factory=NoAlgorithm)


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
    return f"{alg.kind.name}({alg.hash.name})"
