"""What each provider serves and supports, pinned in the tests (issue 12).

A provider's own ListOpcodes / CanDoCrypto answers must not decide which tests run: a regression
in a capability table would then turn passing tests into silent skips. So the answers are
committed here as data, one module per provider (`pinned_software.py`, `pinned_pkcs11.py` for
SoftHSM2, `pinned_tpm.py` for swtpm):

- `OPCODES`: what ListOpcodes lists with `include_extensions`; `EXTENSION_OPCODES`: those of them a
  plain ListOpcodes leaves out.
- `SUPPORTED`: per family of operations, the cells of the grid below that CanDoCrypto answers
  Success; `REFUSED`: cells answered with a status other than Success or PsaErrorNotSupported.
  Every other cell of the grid is PsaErrorNotSupported.

`test_pinned_capabilities.py` asks the live service every cell and every opcode and fails on any
difference, and the parametrised tests of this directory are generated from the tables (never
from a live answer; see tests/providers/conftest.py): a supported cell gets the real test, an
unsupported one a test that the operation is refused over the socket (`needs.py`). Where the
service does not refuse what its own answer refuses, that is a bug in src/, listed with its
reason in `known_bugs.py` (its refusal test is a strict xfail); cells whose answer contradicts
the operation are in test_capability_answers_issue12.py. The pinned modules' docstrings say what
the review against the providers' documentation found.

The grid: a cell is one CanDoCrypto question, (check type, key type, key size, algorithm), written
`use RsaKeyPair/2048 RSA_PSS(SHA_256)` or `generate Aes/128`. Each family fixes the usage flags of
its questions (signatures: the four signing flags; encryption, AEAD, ciphers, KEM: encrypt and
decrypt; key agreement: derive; MACs: sign and verify message; key types and hashes: none). In a
table, a family maps a key (`RsaKeyPair/2048`, or for key types `RsaKeyPair`) to its items
(algorithms, or sizes), each meaning every check type of the family unless it ends with the
check types it holds for, e.g. `ECDSA(SHA_1)[use,import]`.

After an intended change of a provider, `PYTHONPATH=tests:tests/providers python -m
capabilities.regen` (from the repository's root; see regen.py) asks the three services again
and rewrites the data modules; review the diff like code.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CanDoCryptoRequest, CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
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
    KemKind,
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
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

# ------------------------------------------------------------------------------------------------
# Names


def alg_name(alg: Algorithm) -> str:
    """`RSA_PSS(SHA_256)`, `ECDSA(ANY_HASH)`, `GCM/8`, `HMAC(SHA_256)/16`, `CTR`, `HASH(SHA_1)`..."""
    if isinstance(alg, NoAlgorithm):
        return "none"
    if isinstance(alg, HashAlg):
        return f"HASH({alg.hash.name})"
    if isinstance(alg, SignAlg):
        if alg.hash is None:
            return alg.kind.name
        return f"{alg.kind.name}({'ANY_HASH' if isinstance(alg.hash, AnyHash) else alg.hash.name})"
    if isinstance(alg, EncryptAlg):
        return alg.kind.name if alg.hash is None else f"{alg.kind.name}({alg.hash.name})"
    if isinstance(alg, KeyAgreementAlg):
        return alg.raw.name if alg.kdf is None else \
            f"{alg.raw.name}+{alg.kdf.kind.name}({alg.kdf.hash.name})"
    if isinstance(alg, AeadAlg):
        return alg.kind.name if alg.tag_length is None else f"{alg.kind.name}/{alg.tag_length}"
    if isinstance(alg, CipherAlg):
        return alg.mode.name
    if isinstance(alg, MacAlg):
        base = f"HMAC({alg.hash.name})" if alg.kind == MacKind.HMAC and alg.hash else alg.kind.name
        return base if alg.length is None else f"{base}/{alg.length}"
    if isinstance(alg, KemAlg):
        return alg.kind.name
    raise TypeError(f"no cell name for {alg!r}")


def key_name(kt: KeyType, bits: int) -> str:
    return f"{kt.describe()}/{bits}"


def cell_id(check: CheckType, kt: KeyType, bits: int, alg: Algorithm) -> str:
    head = f"{check.name.lower()} {key_name(kt, bits)}"
    return head if isinstance(alg, NoAlgorithm) else f"{head} {alg_name(alg)}"


# ------------------------------------------------------------------------------------------------
# The grid

SIGN_FLAGS = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
CRYPT_FLAGS = UsageFlags(encrypt=True, decrypt=True)
DERIVE_FLAGS = UsageFlags(derive=True)
MAC_FLAGS = UsageFlags(sign_message=True, verify_message=True)
NO_FLAGS = UsageFlags()
NO_ALG = NoAlgorithm()
ALG_CHECKS = (CheckType.USE, CheckType.GENERATE, CheckType.IMPORT)
KEY_CHECKS = (CheckType.GENERATE, CheckType.IMPORT)


@dataclass(frozen=True)
class Cell:
    family: str
    check: CheckType
    key_type: KeyType
    bits: int
    alg: Algorithm
    usage: UsageFlags

    @property
    def id(self) -> str:
        return cell_id(self.check, self.key_type, self.bits, self.alg)

    @property
    def attributes(self) -> KeyAttributes:
        return KeyAttributes(self.key_type, self.bits, KeyPolicy(self.usage, self.alg))


@dataclass(frozen=True)
class Family:
    """key cells x algorithms x check types, all asked with the same usage flags."""

    name: str
    keys: tuple[tuple[KeyType, int], ...]
    algs: tuple[Algorithm, ...]
    usage: UsageFlags
    checks: tuple[CheckType, ...] = ALG_CHECKS

    def cells(self) -> Iterator[Cell]:
        for kt, bits in self.keys:
            for alg in self.algs:
                for check in self.checks:
                    yield Cell(self.name, check, kt, bits, alg, self.usage)


def _keys(kt: KeyType, *sizes: int) -> tuple[tuple[KeyType, int], ...]:
    return tuple((kt, b) for b in sizes)


RSA, RSA_PUB = KeyType.rsa_key_pair(), KeyType.rsa_public_key()
ECC = KeyType.ecc_key_pair
ECC_PUB = KeyType.ecc_public_key
DH = KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)
DH_PUB = KeyType(KeyKind.DH_PUBLIC_KEY, dh_family=DhFamily.RFC7919)
AES, CHACHA20, HMAC = KeyType.simple(KeyKind.AES), KeyType.simple(KeyKind.CHACHA20), \
    KeyType.simple(KeyKind.HMAC)
ML_KEM, ML_KEM_PUB = KeyType(KeyKind.ML_KEM_KEY_PAIR), KeyType(KeyKind.ML_KEM_PUBLIC_KEY)
ML_DSA, ML_DSA_PUB = KeyType(KeyKind.ML_DSA_KEY_PAIR), KeyType(KeyKind.ML_DSA_PUBLIC_KEY)
XWING, XWING_PUB = KeyType(KeyKind.XWING_KEY_PAIR), KeyType(KeyKind.XWING_PUBLIC_KEY)
SLH_F = KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F)

ECC_SIZES: dict[EccFamily, tuple[int, ...]] = {
    EccFamily.SECP_R1: (0, 192, 224, 256, 384, 521), EccFamily.SECP_K1: (0, 192, 224, 256),
    EccFamily.SECP_R2: (160,), EccFamily.SECT_K1: (163, 233), EccFamily.SECT_R1: (163, 233),
    EccFamily.SECT_R2: (163,), EccFamily.BRAINPOOL_P_R1: (0, 160, 256, 384, 512),
    EccFamily.FRP: (256,), EccFamily.MONTGOMERY: (0, 255, 448),
    EccFamily.TWISTED_EDWARDS: (0, 255, 448),
}
SIMPLE_SIZES: dict[KeyKind, tuple[int, ...]] = {
    KeyKind.AES: (0, 64, 128, 192, 256, 512), KeyKind.CHACHA20: (0, 128, 256),
    KeyKind.HMAC: (0, 8, 160, 256, 264, 512, 1024), KeyKind.RAW_DATA: (0, 8, 256),
    KeyKind.DERIVE: (0, 256, 512), KeyKind.DES: (64, 192), KeyKind.CAMELLIA: (128, 256),
    KeyKind.ARC4: (128,),
}


def _key_family() -> Family:
    keys: list[tuple[KeyType, int]] = []
    for kt in (RSA, RSA_PUB):  # 1025-1031, 1536: the sizes of RSA Laboratories' vectors
        keys += _keys(kt, 0, 512, 1024, *range(1025, 1032), 1536, 2048, 3072, 4096, 8192)
    for fam, sizes in ECC_SIZES.items():
        keys += _keys(ECC(fam), *sizes) + _keys(ECC_PUB(fam), *sizes)
    for kt in (DH, DH_PUB):
        keys += _keys(kt, 0, 1024, 2048, 3072, 4096, 6144, 8192)
    for kind, sizes in SIMPLE_SIZES.items():
        keys += _keys(KeyType.simple(kind), *sizes)
    for kt in (ML_KEM, ML_KEM_PUB):
        keys += _keys(kt, 0, 512, 768, 1024)
    for kt in (ML_DSA, ML_DSA_PUB):
        keys += _keys(kt, 0, 128, 192, 256)
    for sfam in SlhDsaFamily:
        for kt in (KeyType.slh_dsa_key_pair(sfam), KeyType.slh_dsa_public_key(sfam)):
            keys += _keys(kt, 0, 128, 192, 256)
    keys += _keys(XWING, 0, 768) + _keys(XWING_PUB, 0, 768)
    return Family("keys", tuple(keys), (NoAlgorithm(),), NO_FLAGS, KEY_CHECKS)


HASHED_SIGN = (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS, SignKind.ECDSA,
               SignKind.DETERMINISTIC_ECDSA)
CLASSIC_SIGN = (*(SignAlg(k, h) for k in HASHED_SIGN
                   for h in (Hash.SHA_256, Hash.SHA_384, Hash.SHA_512, ANY_HASH)),
                SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW), SignAlg(SignKind.ECDSA_ANY))
PQC_SIGN = (SignAlg(SignKind.PURE_EDDSA), SignAlg(SignKind.ML_DSA),
            SignAlg(SignKind.DETERMINISTIC_ML_DSA), SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256),
            SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_256), SignAlg(SignKind.SLH_DSA),
            SignAlg(SignKind.DETERMINISTIC_SLH_DSA), SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_256),
            SignAlg(SignKind.DETERMINISTIC_HASH_SLH_DSA, Hash.SHA_256))
CLASSIC_SIGN_KEYS = (
    *_keys(RSA, 1024, 2048), *_keys(RSA_PUB, 0, 2048),
    *_keys(ECC(EccFamily.SECP_R1), 0, 192, 224, 256, 384, 521), (ECC(EccFamily.SECP_K1), 256),
    *_keys(ECC(EccFamily.BRAINPOOL_P_R1), 256, 384, 512),
    *_keys(ECC_PUB(EccFamily.SECP_R1), 192, 224, 256, 384, 521), (ECC_PUB(EccFamily.SECP_K1), 256),
    (ECC(EccFamily.MONTGOMERY), 255), (AES, 128))
PQC_SIGN_KEYS = ((ECC(EccFamily.TWISTED_EDWARDS), 255), (ECC_PUB(EccFamily.TWISTED_EDWARDS), 255),
                 (ML_DSA, 128), (ML_DSA_PUB, 128), (SLH_F, 128))
# A hash sweep: every hash with each hash-and-sign scheme, on one key each.
SIGN_HASH_SWEEP = (
    ((RSA, 2048), (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS)),
    ((RSA_PUB, 2048), (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS)),
    *(((RSA_PUB, b), (SignKind.RSA_PKCS1V15_SIGN,)) for b in (1024, 1536, 3072, 4096)),
    ((ECC(EccFamily.SECP_R1), 256), (SignKind.ECDSA, SignKind.DETERMINISTIC_ECDSA)),
    ((ECC(EccFamily.SECP_R1), 0), (SignKind.DETERMINISTIC_ECDSA,)),
    *(((ECC_PUB(EccFamily.SECP_R1), b), (SignKind.ECDSA,)) for b in (192, 224, 256, 384, 521)),
    ((ML_DSA, 128), (SignKind.HASH_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA)),
    ((SLH_F, 128), (SignKind.HASH_SLH_DSA,)),
)

AEAD_ALGS = (tuple(AeadAlg(AeadKind.GCM, t) for t in (None, 3, 4, 5, 8, 12, 13, 14, 15, 16, 17))
             + tuple(AeadAlg(AeadKind.CCM, t) for t in (None, 2, 4, 5, 6, 8, 10, 12, 14, 16))
             + tuple(AeadAlg(AeadKind.CHACHA20_POLY1305, t) for t in (None, 8, 16)))
HMACS = (*(MacAlg(MacKind.HMAC, h) for h in Hash), *(MacAlg(MacKind.HMAC, h, 16) for h in Hash),
         *(MacAlg(MacKind.HMAC, Hash.SHA_256, n) for n in (4, 32, 33)))
CMACS = (MacAlg(MacKind.CMAC), *(MacAlg(MacKind.CMAC, None, n) for n in (4, 8, 15, 16, 17)),
         MacAlg(MacKind.CBC_MAC))
ECDH = KeyAgreementAlg(RawKeyAgreement.ECDH)
FFDH = KeyAgreementAlg(RawKeyAgreement.FFDH)


def _families() -> tuple[Family, ...]:
    out = [_key_family(),
           Family("sign", CLASSIC_SIGN_KEYS, CLASSIC_SIGN, SIGN_FLAGS),
           Family("sign", ((RSA, 2048), (ECC(EccFamily.SECP_R1), 256)), PQC_SIGN, SIGN_FLAGS),
           Family("sign", PQC_SIGN_KEYS, CLASSIC_SIGN + PQC_SIGN, SIGN_FLAGS)]
    for key, kinds in SIGN_HASH_SWEEP:
        out.append(Family("sign", (key,), tuple(SignAlg(k, h) for k in kinds for h in Hash),
                          SIGN_FLAGS))
    out += [
        Family("encrypt", (*_keys(RSA, 1024, 2048), (RSA_PUB, 2048), (ECC(EccFamily.SECP_R1), 256)),
               (EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT),
                *(EncryptAlg(EncryptKind.RSA_OAEP, h) for h in (
                    Hash.SHA_1, Hash.SHA_224, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512,
                    Hash.SHA3_256))), CRYPT_FLAGS),
        Family("agreement",
               (*_keys(ECC(EccFamily.SECP_R1), 192, 224, 256, 384, 521), (ECC(EccFamily.SECP_K1), 256),
                *_keys(ECC(EccFamily.BRAINPOOL_P_R1), 256, 384, 512),
                *_keys(ECC(EccFamily.MONTGOMERY), 0, 255, 448), (ECC_PUB(EccFamily.SECP_R1), 256),
                (ECC_PUB(EccFamily.MONTGOMERY), 255), *_keys(DH, 0, 2048, 3072, 4096, 6144, 8192),
                (DH_PUB, 2048), (RSA, 1024)),
               (ECDH, FFDH, KeyAgreementAlg(RawKeyAgreement.ECDH, KdfAlg(KdfKind.HKDF, Hash.SHA_256))),
               DERIVE_FLAGS),
        Family("aead", _keys(AES, 128, 192, 256), AEAD_ALGS, CRYPT_FLAGS),
        Family("aead", ((CHACHA20, 256), (HMAC, 256)),
               (AeadAlg(AeadKind.GCM), AeadAlg(AeadKind.CCM),
                *(AeadAlg(AeadKind.CHACHA20_POLY1305, t) for t in (None, 8, 16))), CRYPT_FLAGS),
        Family("cipher", (*_keys(AES, 128, 192, 256), (CHACHA20, 256), (HMAC, 128)),
               tuple(CipherAlg(m) for m in CipherMode), CRYPT_FLAGS),
        Family("mac", _keys(HMAC, 0, 160, 256), HMACS + CMACS, MAC_FLAGS),
        Family("mac", _keys(HMAC, 128), (MacAlg(MacKind.HMAC, Hash.SHA_256),
                                         MacAlg(MacKind.HMAC, Hash.SHA_512)), MAC_FLAGS),
        Family("mac", (*_keys(AES, 128, 192, 256), (CHACHA20, 256)),
               (MacAlg(MacKind.HMAC, Hash.SHA_256), *CMACS), MAC_FLAGS),
        Family("hash", ((KeyType.simple(KeyKind.RAW_DATA), 0),), tuple(HashAlg(h) for h in Hash),
               NO_FLAGS, (CheckType.USE,)),
        Family("kem", (*_keys(ML_KEM, 512, 768, 1024), *_keys(ML_KEM_PUB, 512, 768, 1024),
                       (XWING, 768), (XWING_PUB, 768), (ECC(EccFamily.MONTGOMERY), 255), (AES, 256)),
               (KemAlg(KemKind.ML_KEM), KemAlg(KemKind.X_WING)), CRYPT_FLAGS),
        Family("derive", ((KeyType.simple(KeyKind.DERIVE), 256), (ECC(EccFamily.SECP_R1), 256),
                          (HMAC, 256)),
               (NoAlgorithm(), ECDH, MacAlg(MacKind.HMAC, Hash.SHA_256)), DERIVE_FLAGS,
               (CheckType.DERIVE,)),
    ]
    return tuple(out)


FAMILIES = _families()
FAMILY_NAMES = tuple(dict.fromkeys(f.name for f in FAMILIES))


def _grid() -> dict[str, Cell]:
    grid: dict[str, Cell] = {}
    for fam in FAMILIES:
        for cell in fam.cells():
            grid.setdefault(cell.id, cell)
    return grid


GRID: dict[str, Cell] = _grid()

# ------------------------------------------------------------------------------------------------
# Tables


_ITEM = re.compile(r"^(?P<item>[^\[\]\s]+)(?:\[(?P<checks>[a-z,]+)\])?$")
_CHECKS = {c.name.lower(): c for c in CheckType}


def _expand(family: str, entries: Mapping[str, str]) -> Iterator[str]:
    """The cell ids of a family's entries: {key: "item item[check,check] ..."}."""
    default = next(f.checks for f in FAMILIES if f.name == family)
    for key, items in entries.items():
        for word in items.split():
            m = _ITEM.match(word)
            if m is None:
                raise ValueError(f"{family}: bad item {word!r} of {key!r}")
            checks = [_CHECKS[c] for c in m["checks"].split(",")] if m["checks"] else default
            for check in checks:
                if family == "keys":
                    yield f"{check.name.lower()} {key}/{m['item']}"
                elif m["item"] == "none":
                    yield f"{check.name.lower()} {key}"
                else:
                    yield f"{check.name.lower()} {key} {m['item']}"


@dataclass(frozen=True)
class Pinned:
    """One provider's pinned answers."""

    name: str
    opcodes: frozenset[Opcode]
    extension_opcodes: frozenset[Opcode]
    answers: Mapping[str, ResponseStatus] = field(default_factory=dict)  # not NotSupported

    @property
    def plain_opcodes(self) -> frozenset[Opcode]:
        return self.opcodes - self.extension_opcodes

    def serves(self, *ops: Opcode) -> bool:
        return all(op in self.opcodes for op in ops)

    def status(self, check: CheckType, kt: KeyType, bits: int, alg: Algorithm) -> ResponseStatus:
        """The pinned CanDoCrypto answer (with the family's usage flags) for one grid cell."""
        cid = cell_id(check, kt, bits, alg)
        if cid not in GRID:
            raise KeyError(f"{cid!r} is not a cell of the grid (tests/providers/capabilities/"
                           f"__init__.py): add it there and pin its answers")
        return self.answers.get(cid, ResponseStatus.PSA_ERROR_NOT_SUPPORTED)

    def can(self, check: CheckType, kt: KeyType, bits: int, alg: Algorithm = NO_ALG) -> bool:
        return self.status(check, kt, bits, alg) == ResponseStatus.SUCCESS


def _opcodes(text: str) -> frozenset[Opcode]:
    return frozenset(Opcode[name] for name in text.split())


def load(name: str, module: ModuleType) -> Pinned:
    answers: dict[str, ResponseStatus] = {}
    sections: list[tuple[ResponseStatus, Mapping[str, Mapping[str, str]]]] = [
        (ResponseStatus.SUCCESS, module.SUPPORTED)]
    sections += [(ResponseStatus[status], fams) for status, fams in module.REFUSED.items()]
    for status, families in sections:
        for family, entries in families.items():
            for cid in _expand(family, entries):
                if cid not in GRID:
                    raise ValueError(f"{name}: {cid!r} is not a cell of the grid")
                if cid in answers:
                    raise ValueError(f"{name}: {cid!r} is pinned twice")
                answers[cid] = status
    return Pinned(name, _opcodes(module.OPCODES), _opcodes(module.EXTENSION_OPCODES), answers)


def probe(client: BasicClient, cells: Iterable[Cell]) -> dict[str, ResponseStatus]:
    """Ask the service every cell: its CanDoCrypto status."""
    out: dict[str, ResponseStatus] = {}
    for cell in cells:
        try:
            client.call(Opcode.CAN_DO_CRYPTO, CanDoCryptoRequest(cell.check, cell.attributes))
        except ServiceError as exc:
            out[cell.id] = exc.status
        else:
            out[cell.id] = ResponseStatus.SUCCESS
    return out


@cache
def pinned(name: str) -> Pinned:
    """The pinned table of a provider of tests/providers/conftest.py's PROVIDERS."""
    module = importlib.import_module(f"{__name__}.pinned_{name}")
    return load(name, module)


# ------------------------------------------------------------------------------------------------
# Selecting tests (read by tests/providers/conftest.py's pytest_generate_tests)


def for_providers(pred: Callable[[Pinned], bool]) -> pytest.MarkDecorator:
    """Run the test for the providers whose pinned table satisfies `pred`."""
    return pytest.mark.provider_cases(None, None, pred, None, None)


def serving(*ops: Opcode) -> pytest.MarkDecorator:
    """Run the test for the providers that serve all of `ops`."""
    return for_providers(lambda t: t.serves(*ops))


def only(*names: str) -> pytest.MarkDecorator:
    """Run the test for these providers only: for checks of one provider's own behaviour."""
    return for_providers(lambda t: t.name in names)


def per_provider(argnames: str | Sequence[str], values: Iterable[Any],
                 where: Callable[[Pinned, Any], bool],
                 ids: Callable[[Any], str] | Sequence[str] | None = None) -> pytest.MarkDecorator:
    """Parametrise the test with (provider, value) for every value `where(table, value)` keeps.
    Several argnames take tuples as values, as with pytest.mark.parametrize."""
    return cases_marker(argnames, list(values), lambda t, i, v: where(t, v), ids)


def cases_marker(argnames: str | Sequence[str], values: Sequence[Any] | Callable[[], Sequence[Any]],
                 where: Callable[[Pinned, int, Any], bool],
                 ids: Callable[[Any], str] | Sequence[str] | None,
                 marks: Callable[[Pinned, Any], Sequence[pytest.MarkDecorator]] | None = None) \
        -> pytest.MarkDecorator:
    """The marker itself: `values` may be a function giving them at collection time, `where`
    gets the table, the value's index and the value; `marks` gives a (provider, value) pair's
    marks."""
    names = tuple(n.strip() for n in argnames.split(",")) if isinstance(argnames, str) \
        else tuple(argnames)
    return pytest.mark.provider_cases(names, values, where, ids, marks)
