"""What a test needs of a provider, and the test that the providers without it refuse it.

A test module declares its tests' needs through one `Needs` registry: the opcodes an operation
uses, and the grid cell of the key it creates (`generate EccKeyPair(SECP_R1)/256 ECDSA(SHA_256)`,
`import Aes/128 GCM`...). A test then runs for the providers whose pinned table meets all its
needs, and the module's `refusals()` test runs for every (provider, need) the table does not
meet, asserting over the socket that the service refuses it: a missing opcode answers
PsaErrorNotSupported; an unsupported cell gets the pinned CanDoCrypto answer and its key creation
(the test's own way of making the key) PsaErrorNotSupported.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CanDoCryptoRequest, CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherMode,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus

from . import GRID, NO_ALG, Pinned, cases_marker, cell_id
from .known_bugs import KNOWN_BUGS

_names = itertools.count()


@dataclass(frozen=True)
class Need:
    ops: tuple[Opcode, ...] = ()
    check: CheckType | None = None
    key_type: KeyType | None = None
    bits: int = 0
    alg: Algorithm = NO_ALG

    @property
    def cell(self) -> str | None:
        if self.check is None or self.key_type is None:
            return None
        return cell_id(self.check, self.key_type, self.bits, self.alg)

    @property
    def id(self) -> str:
        parts = [op.name for op in self.ops]
        if self.cell:
            parts.append(self.cell.replace(" ", "-"))
        return "+".join(parts)

    def met_by(self, t: Pinned) -> bool:
        if not t.serves(*self.ops):
            return False
        if self.check is None or self.key_type is None:
            return True
        return t.can(self.check, self.key_type, self.bits, self.alg)


def generates(kt: KeyType, bits: int, alg: Algorithm = NO_ALG, *ops: Opcode) -> Need:
    return Need(ops, CheckType.GENERATE, kt, bits, alg)


def imports(kt: KeyType, bits: int, alg: Algorithm = NO_ALG, *ops: Opcode) -> Need:
    return Need(ops, CheckType.IMPORT, kt, bits, alg)


def serves(*ops: Opcode) -> Need:
    return Need(ops)


class Needs:
    """One test module's needs (see the module docstring)."""

    def __init__(self) -> None:
        self._all: dict[Need, None] = {}

    def _note(self, needs: Iterable[Need]) -> tuple[Need, ...]:
        """Record what `needs` ask, one opcode or one cell at a time (the refusals' cases)."""
        needs = tuple(needs)
        for n in needs:
            if n.cell is not None and n.cell not in GRID:
                raise KeyError(f"{n.cell!r} is not a cell of the grid (capabilities/__init__.py)")
            for op in n.ops:
                self._all[Need((op,))] = None
            if n.cell is not None:
                self._all[Need((), n.check, n.key_type, n.bits, n.alg)] = None
        return needs

    def test(self, *needs: Need) -> pytest.MarkDecorator:
        """Run the test for the providers that meet all `needs`."""
        noted = self._note(needs)
        return pytest.mark.provider_cases(None, None, lambda t: all(n.met_by(t) for n in noted),
                                          None, None)

    def note(self, *needs: Need) -> None:
        """What a test uses where the pinned table has it (`table.can(...)`), and does without
        elsewhere: only the refusal test's cases."""
        self._note(needs)

    def any_of(self, *needs: Need) -> pytest.MarkDecorator:
        """Run the test for the providers that meet at least one of `needs` (a test that loops
        over vectors and takes those the pinned table has: `table.can(...)`); the others'
        refusals are this module's refusal test's cases."""
        noted = self._note(needs)
        return pytest.mark.provider_cases(None, None, lambda t: any(n.met_by(t) for n in noted),
                                          None, None)

    def cases(self, argnames: str, values: Iterable[Any], needs_of: Callable[[Any], Iterable[Need]],
              ids: Callable[[Any], str] | list[str] | None = None,
              bugs: Callable[[str, Any], str | None] | None = None) -> pytest.MarkDecorator:
        """Parametrise the test with (provider, value) where the provider meets the value's needs.
        `bugs(provider, value)` names a known bug in src/ for a pair: that pair is xfail(strict)."""
        values = list(values)
        needs = [self._note(needs_of(v)) for v in values]

        def marks(t: Pinned, v: Any) -> list[pytest.MarkDecorator]:
            reason = bugs(t.name, v) if bugs else None
            return [] if reason is None else [pytest.mark.xfail(strict=True, reason=reason)]

        return cases_marker(argnames, values, lambda t, i, v: all(n.met_by(t) for n in needs[i]),
                            ids, marks)

    def refusals(self) -> pytest.MarkDecorator:
        """Parametrise the module's refusal test with every (provider, need) not met."""
        return cases_marker("need", lambda: list(self._all), lambda t, i, n: not n.met_by(t),
                            lambda n: n.id, known_bug)


def known_bug(t: Pinned, need: Need) -> list[pytest.MarkDecorator]:
    """A refusal the service does not make yet (capabilities/known_bugs.py): strict xfail."""
    reason = KNOWN_BUGS.get((t.name, need.cell or need.id))
    return [] if reason is None else [pytest.mark.xfail(strict=True, reason=reason)]


# ------------------------------------------------------------------------------------------------
# The refusal itself


def status_of(fn: Callable[[], object]) -> ResponseStatus | None:
    try:
        fn()
    except ServiceError as exc:
        return exc.status
    return None


_ABSENT = "no-such-key"
_DIGEST = hashlib.sha256(b"refused").digest()
# A request of each opcode the tests use, naming a key that does not exist: a provider without
# the opcode answers PsaErrorNotSupported before it looks the key up.
OPCODE_CALLS: dict[Opcode, Callable[[BasicClient], object]] = {
    Opcode.PSA_GENERATE_KEY: lambda c: c.generate_key(
        _ABSENT, KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy())),
    Opcode.PSA_IMPORT_KEY: lambda c: c.import_key(
        _ABSENT, KeyAttributes(KeyType.simple(KeyKind.RAW_DATA), 0, KeyPolicy()), b"x"),
    Opcode.PSA_EXPORT_KEY: lambda c: c.export_key(_ABSENT),
    Opcode.PSA_SIGN_HASH: lambda c: c.sign_hash(_ABSENT, SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                                _DIGEST),
    Opcode.PSA_VERIFY_HASH: lambda c: c.verify_hash(
        _ABSENT, SignAlg(SignKind.ECDSA, Hash.SHA_256), _DIGEST, bytes(64)),
    Opcode.PSA_SIGN_MESSAGE: lambda c: c.sign_message(
        _ABSENT, SignAlg(SignKind.ECDSA, Hash.SHA_256), b"m"),
    Opcode.PSA_VERIFY_MESSAGE: lambda c: c.verify_message(
        _ABSENT, SignAlg(SignKind.ECDSA, Hash.SHA_256), b"m", bytes(64)),
    Opcode.PSA_ASYMMETRIC_ENCRYPT: lambda c: c.asymmetric_encrypt(
        _ABSENT, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"m"),
    Opcode.PSA_ASYMMETRIC_DECRYPT: lambda c: c.asymmetric_decrypt(
        _ABSENT, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), bytes(128)),
    Opcode.PSA_AEAD_ENCRYPT: lambda c: c.aead_encrypt(_ABSENT, AeadAlg(AeadKind.GCM), bytes(12),
                                                      b"", b"m"),
    Opcode.PSA_AEAD_DECRYPT: lambda c: c.aead_decrypt(_ABSENT, AeadAlg(AeadKind.GCM), bytes(12),
                                                      b"", bytes(17)),
    Opcode.PSA_CIPHER_ENCRYPT: lambda c: c.cipher_encrypt(_ABSENT, CipherMode.CTR, b"m"),
    Opcode.PSA_CIPHER_DECRYPT: lambda c: c.cipher_decrypt(_ABSENT, CipherMode.CTR, bytes(17)),
    Opcode.PSA_MAC_COMPUTE: lambda c: c.mac_compute(_ABSENT, MacAlg(MacKind.HMAC, Hash.SHA_256),
                                                    b"m"),
    Opcode.PSA_MAC_VERIFY: lambda c: c.mac_verify(_ABSENT, MacAlg(MacKind.HMAC, Hash.SHA_256),
                                                  b"m", bytes(32)),
    Opcode.PSA_RAW_KEY_AGREEMENT: lambda c: c.raw_key_agreement(RawKeyAgreement.ECDH, _ABSENT,
                                                                bytes(65)),
    Opcode.PSA_HASH_COMPUTE: lambda c: c.hash_compute(Hash.SHA_256, b"m"),
    Opcode.PSA_HASH_COMPARE: lambda c: c.hash_compare(Hash.SHA_256, b"m", _DIGEST),
    Opcode.CAN_DO_CRYPTO: lambda c: c.can_do_crypto(
        CheckType.USE, KeyAttributes(KeyType.simple(KeyKind.AES), 128, KeyPolicy())),
}


@cache
def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


_CURVES: dict[tuple[EccFamily, int], ec.EllipticCurve] = {
    (EccFamily.SECP_R1, 192): ec.SECP192R1(), (EccFamily.SECP_R1, 224): ec.SECP224R1(),
    (EccFamily.SECP_R1, 256): ec.SECP256R1(), (EccFamily.SECP_R1, 384): ec.SECP384R1(),
    (EccFamily.SECP_R1, 521): ec.SECP521R1(), (EccFamily.SECP_K1, 256): ec.SECP256K1(),
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1(),
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1(),
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1(),
}
_DH_P2048 = int(  # RFC 7919 ffdhe2048
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B"
    "3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E"
    "7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108"
    "A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2EC"
    "C03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D16"
    "83B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16)


def sample_key(kt: KeyType, bits: int) -> bytes:
    """Valid PSA import data for a key of this type and size (for the refusal of an import)."""
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    point = serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    if kt.is_rsa:
        priv = _rsa(bits or 2048)
        if kt.is_key_pair:
            return priv.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())
        return priv.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.PKCS1)
    if kt.is_ecc and kt.ecc_family in (EccFamily.MONTGOMERY, EccFamily.TWISTED_EDWARDS):
        edwards = kt.ecc_family == EccFamily.TWISTED_EDWARDS
        key: Any = ((ed25519.Ed25519PrivateKey if edwards else x25519.X25519PrivateKey)
                    if bits in (0, 255) else
                    (ed448.Ed448PrivateKey if edwards else x448.X448PrivateKey)).generate()
        if kt.is_key_pair:
            return bytes(key.private_bytes(serialization.Encoding.Raw,
                                           serialization.PrivateFormat.Raw,
                                           serialization.NoEncryption()))
        return bytes(key.public_key().public_bytes(*raw))
    if kt.is_ecc:
        assert kt.ecc_family is not None
        curve = _CURVES[(kt.ecc_family, bits or 256)]
        priv_ec = ec.generate_private_key(curve)
        if kt.is_key_pair:
            return priv_ec.private_numbers().private_value.to_bytes((curve.key_size + 7) // 8, "big")
        return priv_ec.public_key().public_bytes(*point)
    if kt.is_dh:
        x = int.from_bytes(os.urandom(255), "big") | 2
        if kt.is_key_pair:
            return x.to_bytes(256, "big")
        return pow(2, x, _DH_P2048).to_bytes(256, "big")
    pqc_lengths = {  # docs/pqc.md: seeds for the key pairs, encodings of the public keys
        KeyKind.ML_KEM_KEY_PAIR: {512: 64, 768: 64, 1024: 64},
        KeyKind.ML_KEM_PUBLIC_KEY: {512: 800, 768: 1184, 1024: 1568},
        KeyKind.ML_DSA_KEY_PAIR: {128: 32, 192: 32, 256: 32},
        KeyKind.ML_DSA_PUBLIC_KEY: {128: 1312, 192: 1952, 256: 2592},
        KeyKind.SLH_DSA_KEY_PAIR: {b: b // 2 for b in (128, 192, 256)},
        KeyKind.SLH_DSA_PUBLIC_KEY: {b: b // 4 for b in (128, 192, 256)},
        KeyKind.XWING_KEY_PAIR: {768: 32}, KeyKind.XWING_PUBLIC_KEY: {768: 1216},
    }
    if kt.kind in pqc_lengths:  # random: good enough for a refusal, not for an import
        sizes = pqc_lengths[kt.kind]
        return os.urandom(sizes.get(bits) or next(iter(sizes.values())))
    if kt.is_asymmetric:
        raise ValueError(f"no sample data for {kt.describe()}")
    return os.urandom((bits or 256) // 8)


def _usage(need: Need) -> Any:
    assert need.cell is not None
    return GRID[need.cell].usage


def assert_refused(client: BasicClient, table: Pinned, need: Need,
                   data: bytes | None = None) -> None:
    """The service refuses what `table` says the provider lacks of `need` (see the module)."""
    for op in need.ops:
        assert not table.serves(op), f"{table.name} serves {op.name}: nothing to refuse"
        assert status_of(lambda op=op: OPCODE_CALLS[op](client)) == \
            ResponseStatus.PSA_ERROR_NOT_SUPPORTED, op.name
    if need.check is None or need.key_type is None:
        return
    pinned = table.status(need.check, need.key_type, need.bits, need.alg)
    assert pinned != ResponseStatus.SUCCESS, f"{table.name} supports {need.cell}: nothing to refuse"
    attrs = KeyAttributes(need.key_type, need.bits, KeyPolicy(_usage(need), need.alg))
    answered = status_of(lambda: client.call(Opcode.CAN_DO_CRYPTO,
                                             CanDoCryptoRequest(need.check, attrs)))
    assert (answered or ResponseStatus.SUCCESS) == pinned, f"CanDoCrypto for {need.cell}"
    alg = need.alg
    if isinstance(alg, HashAlg):  # "do you compute this hash": PsaHashCompute answers
        got = status_of(lambda: client.hash_compute(alg.hash, b"refused"))
        assert got == ResponseStatus.PSA_ERROR_NOT_SUPPORTED, \
            f"{need.cell}: pinned as unsupported, PsaHashCompute answered {got.name if got else 'Success'}"
        return
    name = f"refused-{next(_names)}"
    if need.check == CheckType.GENERATE:
        got = status_of(lambda: client.generate_key(name, attrs))
    else:
        assert need.check == CheckType.IMPORT, need
        material = data if data is not None else sample_key(need.key_type, need.bits)
        got = status_of(lambda: client.import_key(name, attrs, material))
    assert got == ResponseStatus.PSA_ERROR_NOT_SUPPORTED, \
        f"{need.cell}: pinned as unsupported, creating the key answered " \
        f"{got.name if got else 'Success'}"
    assert name not in [k.name for k in client.list_keys(include_extensions=True)]
