"""CanDoCrypto end to end: Parsec's documented semantics, and (software provider) agreement
between its answers and what the operations actually do."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator

import pytest
from capabilities import only, serving
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KdfAlg,
    KdfKind,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus
from pqparsec.service.providers.software import keys

pytestmark = [pytest.mark.filterwarnings("ignore:Diffie-Hellman"), serving(Opcode.CAN_DO_CRYPTO)]

_names = itertools.count()
ECDSA_256 = SignAlg(SignKind.ECDSA, Hash.SHA_256)
RSA_PKCS1_256 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
ECDH = KeyAgreementAlg(RawKeyAgreement.ECDH)
FFDH = KeyAgreementAlg(RawKeyAgreement.FFDH)
DH_PAIR = KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)
DH_PUBLIC = KeyType(KeyKind.DH_PUBLIC_KEY, dh_family=DhFamily.RFC7919)
SIGN = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
EVERY = UsageFlags(encrypt=True, decrypt=True, sign_hash=True, verify_hash=True, sign_message=True,
                   verify_message=True, derive=True)


def attrs(kt: KeyType, bits: int, alg: Algorithm | None = None,
          flags: UsageFlags | None = None) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(flags or UsageFlags(), alg or NoAlgorithm()))


@pytest.fixture
def can(client: BasicClient) -> Callable[[CheckType, KeyAttributes], bool]:
    return client.can_do_crypto


# ------------------------------------------------------------------------------------------------
# Parsec's semantics (the checks of Parsec's capability-discovery tests)


def test_derive_check(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    assert not can(CheckType.DERIVE, attrs(KeyType.rsa_public_key(), 1024, RSA_PKCS1_256,
                                           UsageFlags(derive=True)))


def test_key_size_check(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    rsa_pub = KeyType.rsa_public_key()
    assert not can(CheckType.USE, attrs(rsa_pub, 256, RSA_PKCS1_256, UsageFlags(sign_hash=True)))
    assert can(CheckType.USE, attrs(rsa_pub, 2048, RSA_PKCS1_256, UsageFlags(sign_hash=True)))
    ecc_pub = KeyType.ecc_public_key(EccFamily.SECP_R1)
    assert can(CheckType.USE, attrs(ecc_pub, 256, ECDSA_256, UsageFlags(sign_hash=True)))
    assert not can(CheckType.USE, attrs(ecc_pub, 1024, ECDSA_256, UsageFlags(sign_hash=True)))


def test_use_check(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    ecc_pub = KeyType.ecc_public_key(EccFamily.SECP_R1)
    assert not can(CheckType.USE, attrs(ecc_pub, 256, ECDSA_256))  # no usage flag
    for flag in ("sign_hash", "sign_message", "verify_hash", "verify_message", "decrypt", "encrypt"):
        assert can(CheckType.USE, attrs(ecc_pub, 256, ECDSA_256, UsageFlags(**{flag: True}))), flag
    rsa_pub = KeyType.rsa_public_key()
    assert not can(CheckType.USE, attrs(rsa_pub, 1024, None, UsageFlags(encrypt=True)))  # no algorithm
    # Algorithm and key type do not match: Parsec's service answers NotSupported (the software
    # provider too); its book also allows NotPermitted for this case.
    mismatch = attrs(rsa_pub, 1024, ECDSA_256, UsageFlags(encrypt=True))
    try:
        assert not can(CheckType.USE, mismatch)
    except ServiceError as exc:
        assert exc.status == ResponseStatus.PSA_ERROR_NOT_PERMITTED


def test_generate_check(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    flags = UsageFlags(encrypt=True)
    assert not can(CheckType.GENERATE, attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256,
                                             ECDSA_256, flags))
    pair = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    assert can(CheckType.GENERATE, attrs(pair, 256, ECDSA_256, flags))
    assert can(CheckType.GENERATE, attrs(pair, 256, None, flags))
    assert not can(CheckType.GENERATE, attrs(pair, 1024, None, flags))


def test_import_check(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    flags = UsageFlags(encrypt=True)
    pub = KeyType.ecc_public_key(EccFamily.SECP_R1)
    assert can(CheckType.IMPORT, attrs(pub, 256, ECDSA_256, flags))
    assert can(CheckType.IMPORT, attrs(pub, 256, None, flags))


def test_any_size(can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    """key_bits 0 asks about a key of any size."""
    assert can(CheckType.GENERATE, attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 0, ECDSA_256, SIGN))


# ------------------------------------------------------------------------------------------------
# The software provider: answers agree with the operations (its own declaration, keys.KEY_SPECS)


def _sizes(spec: keys.KeySpec) -> list[int]:
    sizes = sorted(spec.sizes)
    return sizes if len(sizes) <= 8 else [sizes[0], sizes[-1]]


SPEC_CASES = [(kind, fam) for kind, fam in keys.KEY_SPECS]


@only("software")
@pytest.mark.parametrize(("kind", "family"), SPEC_CASES, ids=[f"{k.name}-{f.name if f is not None else ''}"
                                                             for k, f in SPEC_CASES])
def test_generate_answers_match_generation(client: BasicClient,
                                           can: Callable[[CheckType, KeyAttributes], bool],
                                           kind: KeyKind, family: EccFamily | DhFamily | None) -> None:
    kt = KeyType(kind, ecc_family=family if isinstance(family, EccFamily) else None,
                 dh_family=family if isinstance(family, DhFamily) else None)
    spec = keys.KEY_SPECS[(kind, family)]
    sizes = _sizes(spec)
    if kind == KeyKind.RSA_KEY_PAIR:
        sizes = [1024]  # the largest sizes are slow to generate; the bounds are checked below
    for bits in sizes:
        a = attrs(kt, bits)
        assert can(CheckType.IMPORT, a)
        answer = can(CheckType.GENERATE, a)
        assert answer == spec.generate
        if answer:
            client.generate_key(f"g-{next(_names)}", a)
        else:
            with pytest.raises(ServiceError):
                client.generate_key(f"g-{next(_names)}", a)
    for bits in (min(spec.sizes) - 1, max(spec.sizes) + 8, 65536):
        for check in (CheckType.GENERATE, CheckType.IMPORT, CheckType.USE):
            assert not can(check, attrs(kt, bits, flags=EVERY)), (check, bits)
        with pytest.raises(ServiceError):
            client.generate_key(f"g-{next(_names)}", attrs(kt, bits))


@only("software")
@pytest.mark.parametrize("kt", [KeyType.simple(KeyKind.DES), KeyType.simple(KeyKind.CAMELLIA),
                                KeyType.simple(KeyKind.ARC4), KeyType.ecc_key_pair(EccFamily.SECT_K1),
                                KeyType.ecc_key_pair(EccFamily.SECP_R2),
                                KeyType.ecc_public_key(EccFamily.FRP)], ids=lambda kt: kt.describe())
def test_unsupported_key_types(client: BasicClient,
                               can: Callable[[CheckType, KeyAttributes], bool], kt: KeyType) -> None:
    for check in CheckType:
        assert not can(check, attrs(kt, 0))
        assert not can(check, attrs(kt, 256, ECDSA_256, SIGN))
    with pytest.raises(ServiceError) as err:
        client.generate_key(f"u-{next(_names)}", attrs(kt, 256))
    assert err.value.status in (ResponseStatus.PSA_ERROR_NOT_SUPPORTED, ResponseStatus.DEPRECATED_PRIMITIVE,
                                ResponseStatus.PSA_ERROR_INVALID_ARGUMENT)


def _sign(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, SignAlg)
    size = alg.hash.digest_size if isinstance(alg.hash, Hash) else 32
    client.sign_hash(k, alg, hashlib.sha512(b"m").digest()[:size])


def _encrypt(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, EncryptAlg)
    client.asymmetric_encrypt(k, alg, b"secret")


def _agree(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, KeyAgreementAlg)
    client.raw_key_agreement(alg.raw, k, client.export_public_key(k))


def _aead(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, AeadAlg)
    client.aead_encrypt(k, alg, b"\x00" * 12, b"", b"data")


def _cipher(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, CipherAlg)
    client.cipher_encrypt(k, alg.mode, b"\x00" * 16)


def _mac(client: BasicClient, k: str, alg: Algorithm) -> None:
    assert isinstance(alg, MacAlg)
    client.mac_compute(k, alg, b"data")


USE_CASES: list[tuple[KeyType, int, Algorithm, Callable[[BasicClient, str, Algorithm], None]]] = [
    (KeyType.rsa_key_pair(), 1024, RSA_PKCS1_256, _sign),
    (KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW), _sign),
    (KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PSS, Hash.SHA3_256), _sign),
    (KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.RIPEMD160), _sign),
    (KeyType.rsa_key_pair(), 1024, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256), _encrypt),
    (KeyType.rsa_key_pair(), 1024, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA3_256), _encrypt),
    (KeyType.rsa_key_pair(), 1024, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), _encrypt),
    (KeyType.rsa_key_pair(), 1024, ECDH, _agree),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA_256, _sign),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA_ANY), _sign),
    (KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), 512,
     SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_512), _sign),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA, Hash.RIPEMD160), _sign),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, RSA_PKCS1_256, _sign),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDH, _agree),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, FFDH, _agree),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), _encrypt),
    (KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 255, ECDH, _agree),
    (KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 448, ECDSA_256, _sign),
    (DH_PAIR, 2048, FFDH, _agree),
    (DH_PAIR, 2048, ECDH, _agree),
    (KeyType.simple(KeyKind.AES), 128, AeadAlg(AeadKind.GCM), _aead),
    (KeyType.simple(KeyKind.AES), 128, AeadAlg(AeadKind.CHACHA20_POLY1305), _aead),
    (KeyType.simple(KeyKind.CHACHA20), 256, AeadAlg(AeadKind.CHACHA20_POLY1305), _aead),
    (KeyType.simple(KeyKind.AES), 256, CipherAlg(CipherMode.CBC_NO_PADDING), _cipher),
    (KeyType.simple(KeyKind.HMAC), 256, MacAlg(MacKind.HMAC, Hash.SHA_256), _mac),
    (KeyType.simple(KeyKind.AES), 128, MacAlg(MacKind.CMAC), _mac),
    (KeyType.simple(KeyKind.AES), 128, ECDSA_256, _sign),
]


@only("software")
@pytest.mark.parametrize("case", USE_CASES, ids=lambda c: f"{c[0].describe()}-{c[1]}-{c[2]}")
def test_use_answers_match_operations(client: BasicClient,
                                      can: Callable[[CheckType, KeyAttributes], bool],
                                      case: tuple[KeyType, int, Algorithm,
                                                  Callable[[BasicClient, str, Algorithm], None]]) -> None:
    """Generate a key whose policy names the algorithm, try the operation: it works exactly when
    CanDoCrypto said Use is supported (a policy may name any algorithm; using it is the test)."""
    kt, bits, alg, operate = case
    answer = can(CheckType.USE, attrs(kt, bits, alg, EVERY))
    assert can(CheckType.USE, attrs(kt, 0, alg, EVERY)) == answer  # "any size" agrees here
    k = f"use-{next(_names)}"
    client.generate_key(k, attrs(kt, bits, alg, EVERY))
    try:
        operate(client, k, alg)
    except ServiceError as exc:
        assert not answer, f"CanDoCrypto said yes, the operation said {exc.status.name}"
        assert exc.status in (ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                              ResponseStatus.PSA_ERROR_INVALID_ARGUMENT)
    else:
        assert answer, "CanDoCrypto said no, the operation worked"


@only("software")
def test_generate_with_algorithm_includes_use_check(client: BasicClient,
                                                    can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    pair = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    assert can(CheckType.GENERATE, attrs(pair, 256, ECDSA_256, SIGN))
    assert not can(CheckType.GENERATE, attrs(pair, 256, ECDSA_256))  # use check: no usage flag
    assert not can(CheckType.GENERATE, attrs(pair, 256, RSA_PKCS1_256, SIGN))
    assert not can(CheckType.IMPORT, attrs(pair, 256, FFDH, EVERY))
    assert can(CheckType.IMPORT, attrs(pair, 256, ECDH, UsageFlags(derive=True)))
    # No key derivation here, so no key agreement followed by one.
    hkdf = KeyAgreementAlg(RawKeyAgreement.ECDH, KdfAlg(KdfKind.HKDF, Hash.SHA_256))
    assert not can(CheckType.USE, attrs(pair, 256, hkdf, UsageFlags(derive=True)))
    # Key pairs import; public keys import but do not generate.
    assert can(CheckType.IMPORT, attrs(KeyType.rsa_key_pair(), 4096))
    assert not can(CheckType.GENERATE, attrs(DH_PUBLIC, 2048))
    assert can(CheckType.IMPORT, attrs(DH_PUBLIC, 2048))
    # A Montgomery public key is a peer key only: it performs no algorithm here.
    assert not can(CheckType.USE, attrs(KeyType.ecc_public_key(EccFamily.MONTGOMERY), 255, ECDH, EVERY))


@only("software")
def test_deprecated_generation_not_supported(client: BasicClient,
                                             can: Callable[[CheckType, KeyAttributes], bool]) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_1), SIGN)
    assert not can(CheckType.GENERATE, a)
    assert can(CheckType.IMPORT, a)
    assert can(CheckType.USE, a)


@pytest.fixture(scope="module")
def lenient_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BasicClient]:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("lenient-cdc")), auth_type="Direct",
                         core={"allow_deprecated": True})
    svc.start()
    yield svc.client("cdc")
    svc.stop()


def test_deprecated_generation_when_allowed(lenient_client: BasicClient) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_1), SIGN)
    assert lenient_client.can_do_crypto(CheckType.GENERATE, a)
