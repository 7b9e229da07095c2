"""How parsec-tool prints things, and the JSON forms of the same data.

parsec-tool prints key types and algorithms with Rust's `{:?}` (Debug) formatting of the
psa-crypto types, e.g. ``EccKeyPair { curve_family: SecpR1 }`` and
``AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) })``; scripts grep for these, so we
produce the same strings.
"""

from __future__ import annotations

from typing import Any

from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import AuthenticatorInfo, KeyInfo, ProviderInfo
from pqparsec.protocol.psa import (
    SIGN_KINDS_WITH_HASH,
    AeadAlg,
    AeadKind,
    Algorithm,
    AnyHash,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KdfAlg,
    KdfKind,
    KemAlg,
    KeyAgreementAlg,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)

PROVIDER_NAMES = {
    ProviderId.CORE: "Core provider",
    ProviderId.MBED_CRYPTO: "Mbed Crypto provider",
    ProviderId.PKCS11: "PKCS #11 provider",
    ProviderId.TPM: "TPM provider",
    ProviderId.TRUSTED_SERVICE: "Trusted Service provider",
    ProviderId.CRYPTOAUTHLIB: "CryptoAuthentication Library provider",
}

AUTH_NAMES = {
    AuthType.NO_AUTH: "No authentication",
    AuthType.DIRECT: "Direct authentication",
    AuthType.JWT: "JSON Web Tokens authentication",
    AuthType.UNIX_PEER_CREDENTIALS: "Unix Peer Credentials authentication",
    AuthType.JWT_SVID: "JWT SPIFFE Verifiable Identity Document authentication",
}

_KEY_KINDS = {
    KeyKind.RAW_DATA: "RawData", KeyKind.HMAC: "Hmac", KeyKind.DERIVE: "Derive",
    KeyKind.AES: "Aes", KeyKind.DES: "Des", KeyKind.CAMELLIA: "Camellia", KeyKind.ARC4: "Arc4",
    KeyKind.CHACHA20: "Chacha20", KeyKind.RSA_PUBLIC_KEY: "RsaPublicKey",
    KeyKind.RSA_KEY_PAIR: "RsaKeyPair", KeyKind.ECC_KEY_PAIR: "EccKeyPair",
    KeyKind.ECC_PUBLIC_KEY: "EccPublicKey", KeyKind.DH_KEY_PAIR: "DhKeyPair",
    KeyKind.DH_PUBLIC_KEY: "DhPublicKey",
}

_ECC = {
    EccFamily.SECP_K1: "SecpK1", EccFamily.SECP_R1: "SecpR1", EccFamily.SECP_R2: "SecpR2",
    EccFamily.SECT_K1: "SectK1", EccFamily.SECT_R1: "SectR1", EccFamily.SECT_R2: "SectR2",
    EccFamily.BRAINPOOL_P_R1: "BrainpoolPR1", EccFamily.FRP: "Frp",
    EccFamily.MONTGOMERY: "Montgomery",
}

_DH = {DhFamily.RFC7919: "Rfc7919"}

_HASH = {
    Hash.MD2: "Md2", Hash.MD4: "Md4", Hash.MD5: "Md5", Hash.RIPEMD160: "Ripemd160",
    Hash.SHA_1: "Sha1", Hash.SHA_224: "Sha224", Hash.SHA_256: "Sha256", Hash.SHA_384: "Sha384",
    Hash.SHA_512: "Sha512", Hash.SHA_512_224: "Sha512_224", Hash.SHA_512_256: "Sha512_256",
    Hash.SHA3_224: "Sha3_224", Hash.SHA3_256: "Sha3_256", Hash.SHA3_384: "Sha3_384",
    Hash.SHA3_512: "Sha3_512",
}

_CIPHER = {
    CipherMode.STREAM_CIPHER: "StreamCipher", CipherMode.CTR: "Ctr", CipherMode.CFB: "Cfb",
    CipherMode.OFB: "Ofb", CipherMode.XTS: "Xts", CipherMode.ECB_NO_PADDING: "EcbNoPadding",
    CipherMode.CBC_NO_PADDING: "CbcNoPadding", CipherMode.CBC_PKCS7: "CbcPkcs7",
}

_AEAD = {AeadKind.CCM: "Ccm", AeadKind.GCM: "Gcm",
         AeadKind.CHACHA20_POLY1305: "Chacha20Poly1305"}

_SIGN = {
    SignKind.RSA_PKCS1V15_SIGN: "RsaPkcs1v15Sign", SignKind.RSA_PKCS1V15_SIGN_RAW:
    "RsaPkcs1v15SignRaw", SignKind.RSA_PSS: "RsaPss", SignKind.ECDSA: "Ecdsa",
    SignKind.ECDSA_ANY: "EcdsaAny", SignKind.DETERMINISTIC_ECDSA: "DeterministicEcdsa",
}

_KDF = {KdfKind.HKDF: "Hkdf", KdfKind.TLS12_PRF: "Tls12Prf",
        KdfKind.TLS12_PSK_TO_MS: "Tls12PskToMs"}

_RAW_KA = {RawKeyAgreement.FFDH: "Ffdh", RawKeyAgreement.ECDH: "Ecdh"}


def camel(name: str) -> str:
    """PSA_SIGN_HASH -> PsaSignHash: the names Parsec's Rust code gives enums."""
    return "".join(part.capitalize() for part in name.split("_"))


def provider_name(pid: int) -> str:
    try:
        return PROVIDER_NAMES[ProviderId(pid)]
    except (ValueError, KeyError):
        return f"Unknown provider {pid}"


def auth_name(aid: int) -> str:
    try:
        return AUTH_NAMES[AuthType(aid)]
    except (ValueError, KeyError):
        return f"Unknown authenticator {aid}"


def opcode_name(code: int) -> str:
    try:
        return camel(Opcode(code).name)
    except ValueError:
        return f"Opcode(0x{code:04x})"


def hash_name(h: Hash) -> str:
    return _HASH[h]


def key_type(kt: KeyType) -> str:
    name = _KEY_KINDS.get(kt.kind) or camel(kt.kind.name)
    if kt.ecc_family is not None:
        family = _ECC.get(kt.ecc_family) or camel(kt.ecc_family.name)
        return f"{name} {{ curve_family: {family} }}"
    if kt.dh_family is not None:
        return f"{name} {{ group_family: {_DH[kt.dh_family]} }}"
    if kt.slh_dsa_family is not None:
        return f"{name} {{ family: {camel(kt.slh_dsa_family.name)} }}"
    return name


def _sign_hash(h: Hash | AnyHash | None) -> str:
    return "Any" if isinstance(h, AnyHash) or h is None else f"Specific({_HASH[h]})"


def _full_mac(alg: MacAlg) -> str:
    if alg.kind == MacKind.HMAC:
        return f"Hmac {{ hash_alg: {_HASH[alg.hash] if alg.hash else 'None'} }}"
    return "CbcMac" if alg.kind == MacKind.CBC_MAC else "Cmac"


def _kdf(alg: KdfAlg) -> str:
    return f"{_KDF[alg.kind]} {{ hash_alg: {_HASH[alg.hash]} }}"


def algorithm(alg: Algorithm) -> str:
    """Rust's Debug form of a psa-crypto `Algorithm`."""
    if isinstance(alg, NoAlgorithm):
        return "None"
    if isinstance(alg, HashAlg):
        return f"Hash({_HASH[alg.hash]})"
    if isinstance(alg, MacAlg):
        if alg.length is None:
            return f"Mac(FullLength({_full_mac(alg)}))"
        return f"Mac(Truncated {{ mac_alg: {_full_mac(alg)}, mac_length: {alg.length} }})"
    if isinstance(alg, CipherAlg):
        return f"Cipher({_CIPHER[alg.mode]})"
    if isinstance(alg, AeadAlg):
        if alg.tag_length is None:
            return f"Aead(AeadWithDefaultLengthTag({_AEAD[alg.kind]}))"
        return (f"Aead(AeadWithShortenedTag {{ aead_alg: {_AEAD[alg.kind]}, "
                f"tag_length: {alg.tag_length} }})")
    if isinstance(alg, SignAlg):
        name = _SIGN.get(alg.kind) or camel(alg.kind.name)
        if alg.kind not in SIGN_KINDS_WITH_HASH:
            return f"AsymmetricSignature({name})"
        return f"AsymmetricSignature({name} {{ hash_alg: {_sign_hash(alg.hash)} }})"
    if isinstance(alg, EncryptAlg):
        if alg.kind == EncryptKind.RSA_OAEP:
            h = _HASH[alg.hash] if alg.hash else "None"
            return f"AsymmetricEncryption(RsaOaep {{ hash_alg: {h} }})"
        return "AsymmetricEncryption(RsaPkcs1v15Crypt)"
    if isinstance(alg, KeyAgreementAlg):
        if alg.kdf is None:
            return f"KeyAgreement(Raw({_RAW_KA[alg.raw]}))"
        return (f"KeyAgreement(WithKeyDerivation {{ ka_alg: {_RAW_KA[alg.raw]}, "
                f"kdf_alg: {_kdf(alg.kdf)} }})")
    if isinstance(alg, KemAlg):
        return f"KeyEncapsulation({camel(alg.kind.name)})"
    return f"KeyDerivation({_kdf(alg)})"


# -- the text forms of the listings -------------------------------------------------------------

def provider_text(p: ProviderInfo) -> str:
    return (f"ID: 0x{p.id:02x} ({provider_name(p.id)})\n"
            f"Description: {p.description}\n"
            f"Version: {p.version_maj}.{p.version_min}.{p.version_rev}\n"
            f"Vendor: {p.vendor or 'Unspecified'}\n"
            f"UUID: {p.uuid}\n")


def authenticator_text(a: AuthenticatorInfo) -> str:
    return (f"ID: 0x{a.id:02x} ({auth_name(a.id)})\n"
            f"Description: {a.description}\n"
            f"Version: {a.version_maj}.{a.version_min}.{a.version_rev}\n")


def key_text(k: KeyInfo) -> str:
    a = k.attributes
    bound = "" if a.pcr_binding is None else f", bound to PCRs {a.pcr_binding.describe()}"
    return (f"* {k.name} ({provider_name(k.provider_id)}, {key_type(a.key_type)}, "
            f"{a.key_bits} bits, permitted algorithm: {algorithm(a.algorithm)}{bound})")


# -- JSON ---------------------------------------------------------------------------------------

def provider_json(p: ProviderInfo) -> dict[str, Any]:
    return {"id": p.id, "name": provider_name(p.id), "uuid": p.uuid,
            "description": p.description, "vendor": p.vendor,
            "version": f"{p.version_maj}.{p.version_min}.{p.version_rev}"}


def authenticator_json(a: AuthenticatorInfo) -> dict[str, Any]:
    return {"id": a.id, "name": auth_name(a.id), "description": a.description,
            "version": f"{a.version_maj}.{a.version_min}.{a.version_rev}"}


def key_json(k: KeyInfo, labels: dict[str, str] | None = None) -> dict[str, Any]:
    a = k.attributes
    out: dict[str, Any] = {
        "name": k.name,
        "provider_id": k.provider_id,
        "provider": provider_name(k.provider_id),
        "type": key_type(a.key_type),
        "bits": a.key_bits,
        "usage": a.usage.names(),
        "algorithm": algorithm(a.algorithm),
    }
    if a.pcr_binding is not None:
        b = a.pcr_binding
        out["pcr_binding"] = {"pcrs": list(b.pcrs), "bank": hash_name(b.bank),
                              "digest": b.digest.hex()}
    if labels is not None:
        out["labels"] = labels
    return out
