"""CanDoCrypto answers the operations (issue 12), on every provider: for cells where pinning the
tables showed an answer to be doubtful, the answer must be what the operation does. Success
means the key can be made and used; a refusal, that it cannot. A cell where a provider answers
wrong is a bug in src/, to be marked a strict xfail naming the bug (`bugs=` of `NEEDS.cases`)
while the pinned tables keep the current answer; fixing it fails test_pinned_capabilities.py too,
so both are updated with the fix. None is open."""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable

from capabilities import Pinned, alg_name
from capabilities.needs import Need, Needs, assert_refused, generates, imports, status_of

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    Algorithm,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

NEEDS = Needs()
_names = itertools.count()
SIGN = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
CRYPT = UsageFlags(encrypt=True, decrypt=True)
MACS = UsageFlags(sign_message=True, verify_message=True)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
RSA = KeyType.rsa_key_pair()


def _works(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except ServiceError:
        return False
    return True


# -- generation with a deprecated hash -----------------------------------------------------------

DEPRECATED = [(P256, 256, SignAlg(SignKind.ECDSA, Hash.SHA_1)),
              (RSA, 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_1)),
              (RSA, 2048, SignAlg(SignKind.RSA_PSS, Hash.SHA_1)),
              (P256, 256, SignAlg(SignKind.ECDSA, Hash.MD5)),
              (RSA, 1024, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1))]


@NEEDS.cases("case", DEPRECATED, lambda c: [generates(c[0], c[1])],
             ids=lambda c: f"{c[0].describe()}-{c[1]}-{alg_name(c[2])}")
def test_generate_answer_for_deprecated_hashes(client: BasicClient,
                                               case: tuple[KeyType, int, Algorithm]) -> None:
    kt, bits, alg = case
    usage = CRYPT if isinstance(alg, EncryptAlg) else SIGN
    a = KeyAttributes(kt, bits, KeyPolicy(usage, alg))
    answer = client.can_do_crypto(CheckType.GENERATE, a)
    assert answer == _works(lambda: client.generate_key(f"dep-{next(_names)}", a))


# -- MACs truncated to more than the MAC, MACs with a deprecated hash ----------------------------

HMAC_KEY, AES_KEY = KeyType.simple(KeyKind.HMAC), KeyType.simple(KeyKind.AES)
ODD_MACS = [(HMAC_KEY, MacAlg(MacKind.HMAC, Hash.SHA_256, 33)), (AES_KEY, MacAlg(MacKind.CMAC, None, 17)),
            (HMAC_KEY, MacAlg(MacKind.HMAC, Hash.SHA_1)), (HMAC_KEY, MacAlg(MacKind.HMAC, Hash.MD5)),
            (HMAC_KEY, MacAlg(MacKind.HMAC, Hash.SHA_256, 16))]


def _mac_family(c: tuple[KeyType, MacAlg]) -> list[Need]:
    """The provider does this kind of MAC at all (HMAC-SHA-256, CMAC)."""
    kt, alg = c
    return [imports(kt, 0 if kt == HMAC_KEY else 128,
                    MacAlg(alg.kind, Hash.SHA_256 if alg.hash else None),
                    Opcode.PSA_MAC_COMPUTE, Opcode.PSA_IMPORT_KEY)]


@NEEDS.cases("case", ODD_MACS, _mac_family, ids=lambda c: alg_name(c[1]))
def test_use_answer_for_odd_macs(client: BasicClient, case: tuple[KeyType, MacAlg]) -> None:
    kt, alg = case
    answer = client.can_do_crypto(CheckType.USE, KeyAttributes(kt, 128, KeyPolicy(MACS, alg)))
    k = f"mac-{next(_names)}"
    made = _works(lambda: client.import_key(k, KeyAttributes(kt, 0, KeyPolicy(MACS, alg)),
                                            os.urandom(16)))
    assert answer == (made and _works(lambda: client.mac_compute(k, alg, b"data")))


# -- HashML-DSA / HashSLH-DSA pre-hashes ----------------------------------------------------------

ML_DSA = KeyType(KeyKind.ML_DSA_KEY_PAIR)
SLH_DSA = KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F)
# docs/pqc.md: the pre-hashes are SHA-2 and SHA-3; MD5, SHA-1 and RIPEMD-160 are NotSupported.
PREHASH = [(kt, kind, h) for kt, kind in ((ML_DSA, SignKind.HASH_ML_DSA), (SLH_DSA, SignKind.HASH_SLH_DSA))
           for h in (Hash.MD2, Hash.MD4, Hash.MD5, Hash.SHA_1, Hash.RIPEMD160, Hash.SHA_256,
                     Hash.SHA3_256)]


@NEEDS.cases("case", PREHASH, lambda c: [generates(c[0], 128, SignAlg(c[1], Hash.SHA_256),
                                                   Opcode.PSA_SIGN_MESSAGE)],
             ids=lambda c: f"{c[1].name}-{c[2].name}")
def test_generate_answer_for_prehash_signatures(client: BasicClient,
                                                case: tuple[KeyType, SignKind, Hash]) -> None:
    kt, kind, h = case
    alg = SignAlg(kind, h)
    a = KeyAttributes(kt, 128, KeyPolicy(SIGN, alg))
    answer = client.can_do_crypto(CheckType.GENERATE, a)
    k = f"pq-{next(_names)}"
    made = _works(lambda: client.generate_key(k, a))
    assert answer == (made and _works(lambda: client.sign_message(k, alg, b"data")))


BAD_PREHASH = [c for c in PREHASH if c[2] not in (Hash.SHA_256, Hash.SHA3_256)]


@NEEDS.cases("case", BAD_PREHASH, lambda c: [generates(c[0], 128, SignAlg(c[1], Hash.SHA_256),
                                                       Opcode.PSA_IMPORT_KEY,
                                                       Opcode.PSA_EXPORT_KEY,
                                                       Opcode.PSA_EXPORT_PUBLIC_KEY)],
             ids=lambda c: f"{c[1].name}-{c[2].name}")
def test_keys_with_a_hash_that_is_no_prehash_are_not_made(client: BasicClient,
                                                         case: tuple[KeyType, SignKind, Hash]) -> None:
    """A HashML-DSA / HashSLH-DSA key whose policy names a hash that is not a pre-hash could
    never sign or verify: generating or importing it (key pair or public key) is NotSupported,
    deprecated hash or not."""
    kt, kind, h = case
    exportable = dataclasses.replace(SIGN, export=True)
    good = KeyAttributes(kt, 128, KeyPolicy(exportable, SignAlg(kind, Hash.SHA_256)))
    client.generate_key("good", good)
    pair, public = client.export_key("good"), client.export_public_key("good")
    bad = KeyPolicy(SIGN, SignAlg(kind, h))
    for make in (lambda: client.generate_key("bad", KeyAttributes(kt, 128, bad)),
                 lambda: client.import_key("bad", KeyAttributes(kt, 128, bad), pair),
                 lambda: client.import_key("bad", KeyAttributes(kt.public_type(), 128, bad), public)):
        assert status_of(make) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert [k.name for k in client.list_keys(include_extensions=True)] == ["good"]


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
