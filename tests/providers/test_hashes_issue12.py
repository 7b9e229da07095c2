"""Hashes (issue 12): one table drives PsaHashCompute, PsaHashCompare, the hashes of signature
and HMAC algorithms and CanDoCrypto, so that a client asking first is told exactly what works;
and PsaHashCompare accepts the exact hash only."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
from collections.abc import Callable

import pytest
from capabilities import Pinned, only
from capabilities.needs import Need, Needs, assert_refused, serves
from Crypto.Hash import RIPEMD160 as PyRipemd160
from Crypto.PublicKey import RSA as PyRSA
from Crypto.Signature import pkcs1_15

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    HashAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus as S

DATA = b"the quick brown fox jumps over the lazy dog"
HASHLIB_NAMES = {Hash.MD2: "md2", Hash.MD4: "md4", Hash.MD5: "md5", Hash.RIPEMD160: "ripemd160",
                 Hash.SHA_1: "sha1", Hash.SHA_224: "sha224", Hash.SHA_256: "sha256",
                 Hash.SHA_384: "sha384", Hash.SHA_512: "sha512", Hash.SHA_512_224: "sha512_224",
                 Hash.SHA_512_256: "sha512_256", Hash.SHA3_224: "sha3_224",
                 Hash.SHA3_256: "sha3_256", Hash.SHA3_384: "sha3_384", Hash.SHA3_512: "sha3_512"}
SIGN = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
_names = itertools.count()


def hashlib_digest(h: Hash, data: bytes) -> bytes | None:
    try:
        return hashlib.new(HASHLIB_NAMES[h], data).digest()
    except ValueError:  # not in this Python's OpenSSL
        return None


def status_of(fn: Callable[[], object]) -> S:
    with pytest.raises(ServiceError) as err:
        fn()
    return err.value.status


def hash_query(h: Hash) -> KeyAttributes:
    """CanDoCrypto's question "do you compute h?": a hash needs no key, RawData stands in."""
    return KeyAttributes(KeyType.simple(KeyKind.RAW_DATA), 0, KeyPolicy(UsageFlags(), HashAlg(h)))


def computes(client: BasicClient, h: Hash) -> bytes | None:
    """The digest from PsaHashCompute, or None if the provider does not compute h."""
    try:
        return client.hash_compute(h, DATA)
    except ServiceError as exc:
        assert exc.status == S.PSA_ERROR_NOT_SUPPORTED, (h.name, exc.status.name)
        return None


# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()


def computing(h: Hash) -> Need:
    """The provider computes h (CanDoCrypto's hash question, an extension; see hash_query)."""
    return Need((Opcode.PSA_HASH_COMPUTE, Opcode.PSA_HASH_COMPARE), CheckType.USE,
                KeyType.simple(KeyKind.RAW_DATA), 0, HashAlg(h))


@NEEDS.test(serves(Opcode.CAN_DO_CRYPTO))
@pytest.mark.parametrize("h", list(Hash), ids=lambda h: h.name)
def test_can_do_crypto_agrees_with_hash_compute(client: BasicClient, table: Pinned, h: Hash) -> None:
    """Every provider, whether it computes hashes or not: the answer, the operation and the
    pinned table agree."""
    assert table.can(CheckType.USE, KeyType.simple(KeyKind.RAW_DATA), 0, HashAlg(h)) == \
        client.can_do_crypto(CheckType.USE, hash_query(h))
    answer = client.can_do_crypto(CheckType.USE, hash_query(h))
    got = computes(client, h)
    assert answer == (got is not None), \
        f"CanDoCrypto says {answer}, PsaHashCompute {'works' if got is not None else 'does not'}"
    if got is None:
        assert status_of(lambda: client.hash_compare(h, DATA, b"")) == S.PSA_ERROR_NOT_SUPPORTED
        return
    assert len(got) == h.digest_size
    expected = hashlib_digest(h, DATA)
    if expected is not None:
        assert got == expected
    client.hash_compare(h, DATA, got)


@only("software")
def test_software_provider_hashes(client: BasicClient) -> None:
    """What the software provider computes: every hash OpenSSL 3 has, RIPEMD-160 included; never
    MD2 or MD4 (not in OpenSSL 3's default provider)."""
    have = {h for h in Hash if client.can_do_crypto(CheckType.USE, hash_query(h))}
    assert have == set(Hash) - {Hash.MD2, Hash.MD4}
    # a hash query does not depend on the stand-in key's usage flags or type
    assert client.can_do_crypto(CheckType.USE, KeyAttributes(
        KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(SIGN, HashAlg(Hash.RIPEMD160))))


# ------------------------------------------------------------------------------------------------
# PsaHashCompare accepts the exact hash only


@NEEDS.cases("h", [Hash.SHA_256, Hash.SHA_512, Hash.SHA3_224, Hash.RIPEMD160],
             lambda h: [computing(h)], ids=lambda h: h.name)
def test_hash_compare_exact_hash_only(client: BasicClient, h: Hash) -> None:
    right = client.hash_compute(h, DATA)
    client.hash_compare(h, DATA, right)
    decoy = (hashlib.sha3_256 if h == Hash.SHA_256 else hashlib.sha256)(DATA).digest()
    for bad in (bytes([right[0] ^ 0x01]) + right[1:],  # wrong first byte
                right[:-1] + bytes([right[-1] ^ 0x80]),  # wrong last byte
                b"",  # empty
                right[:1], right[:-1],  # truncated
                right + b"\x00", right + right,  # too long, starting with the right hash
                decoy[:len(right)].ljust(len(right), b"\x00")):  # another hash's digest
        assert status_of(lambda bad=bad: client.hash_compare(h, DATA, bad)) \
            == S.PSA_ERROR_INVALID_SIGNATURE, (h.name, bad.hex())
    # the right hash of other data is a wrong hash of this data
    assert status_of(lambda: client.hash_compare(h, DATA + b".", right)) \
        == S.PSA_ERROR_INVALID_SIGNATURE


# ------------------------------------------------------------------------------------------------
# The software provider: signature and HMAC algorithms naming a hash agree with CanDoCrypto


def _sign_case(client: BasicClient, kind: SignKind, kt: KeyType, bits: int, h: Hash) -> None:
    name = f"sig-{kind.name}-{h.name}-{next(_names)}"
    client.generate_key(name, KeyAttributes(kt, bits, KeyPolicy(SIGN, SignAlg(kind, ANY_HASH))))
    alg = SignAlg(kind, h)
    answer = client.can_do_crypto(CheckType.USE, KeyAttributes(kt, bits, KeyPolicy(SIGN, alg)))
    # the same table as the hash operations'
    assert answer == client.can_do_crypto(CheckType.USE, hash_query(h)), kind.name
    digest = os.urandom(h.digest_size)
    try:
        sig = client.sign_hash(name, alg, digest)
    except ServiceError as exc:
        assert not answer, f"CanDoCrypto said yes, PsaSignHash said {exc.status.name}"
        assert exc.status == S.PSA_ERROR_NOT_SUPPORTED
        return
    assert answer, "CanDoCrypto said no, PsaSignHash worked"
    client.verify_hash(name, alg, digest, sig)
    client.verify_message(name, alg, DATA, client.sign_message(name, alg, DATA))
    if kind == SignKind.RSA_PKCS1V15_SIGN and h == Hash.RIPEMD160:
        # an independent check of the DigestInfo (OID 1.3.36.3.2.1): pycryptodome
        pub = PyRSA.import_key(client.export_public_key(name))
        pkcs1_15.new(pub).verify(PyRipemd160.new(DATA), client.sign_message(name, alg, DATA))


@only("software")
@pytest.mark.parametrize("h", list(Hash), ids=lambda h: h.name)
def test_signature_hashes_agree_with_can_do_crypto(client: BasicClient, h: Hash) -> None:
    ecc = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    for kind, kt, bits in ((SignKind.ECDSA, ecc, 256), (SignKind.DETERMINISTIC_ECDSA, ecc, 256),
                           (SignKind.RSA_PKCS1V15_SIGN, KeyType.rsa_key_pair(), 1024),
                           (SignKind.RSA_PSS, KeyType.rsa_key_pair(), 1024)):
        _sign_case(client, kind, kt, bits, h)


@only("software")
@pytest.mark.parametrize("h", list(Hash), ids=lambda h: h.name)
def test_hmac_hashes_agree_with_can_do_crypto(client: BasicClient, h: Hash) -> None:
    alg = MacAlg(MacKind.HMAC, h)
    attrs = KeyAttributes(KeyType.simple(KeyKind.HMAC), 256,
                          KeyPolicy(UsageFlags(sign_message=True, verify_message=True), alg))
    answer = client.can_do_crypto(CheckType.USE, attrs)
    # the same table as the hash operations', less the deprecated hashes (refused by default)
    assert answer == (client.can_do_crypto(CheckType.USE, hash_query(h))
                      and h not in (Hash.MD5, Hash.SHA_1))
    name = f"hmac-{h.name}-{next(_names)}"
    key = os.urandom(32)
    client.import_key(name, attrs, key)  # (generation refuses deprecated hashes; import warns)
    try:
        mac = client.mac_compute(name, alg, DATA)
    except ServiceError as exc:
        assert not answer, f"CanDoCrypto said yes, PsaMacCompute said {exc.status.name}"
        assert exc.status in (S.PSA_ERROR_NOT_SUPPORTED, S.DEPRECATED_PRIMITIVE)
        return
    assert answer, "CanDoCrypto said no, PsaMacCompute worked"
    try:
        assert mac == hmac.new(key, DATA, HASHLIB_NAMES[h]).digest()
    except ValueError:
        pass  # hashlib lacks it
    client.mac_verify(name, alg, DATA, mac)


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
