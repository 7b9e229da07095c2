"""Which requests the software provider runs without an operation slot (thread_pool_size):
ECDSA sign/verify with an elliptic-curve key already parsed in its key cache, which never need to
wait behind slow operations, and nothing slow. The provider object is driven in-process here; the
end-to-end behaviour of the same operations over the socket is covered by tests/providers/."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyStore
from pqparsec.service.providers.software import SoftwareProvider

ALICE = Identity(AuthType.DIRECT, "alice")
BOB = Identity(AuthType.DIRECT, "bob")
DIGEST = hashlib.sha256(b"inline").digest()


def attrs(key_type: KeyType, bits: int, alg: SignAlg) -> KeyAttributes:
    return KeyAttributes(key_type, bits,
                         KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True), alg))


def test_only_cached_ec_keys_run_inline(tmp_path: Path) -> None:
    store = KeyStore(str(tmp_path / "kim.sqlite3"))
    p = SoftwareProvider(store, os.urandom(32))
    ecdsa = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    pkcs1 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    p.psa_generate_key(ALICE, ops.PsaGenerateKeyRequest(
        "ec", attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ecdsa)))
    p.psa_generate_key(ALICE, ops.PsaGenerateKeyRequest(
        "rsa", attrs(KeyType.rsa_key_pair(), 2048, pkcs1)))
    sign_ec = ops.PsaSignHashRequest("ec", ecdsa, DIGEST)
    sign_rsa = ops.PsaSignHashRequest("rsa", pkcs1, DIGEST)

    # Not parsed yet: the first use takes an operation slot.
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, ALICE, sign_ec)
    sig = p.psa_sign_hash(ALICE, sign_ec).signature
    assert p.runs_inline(Opcode.PSA_SIGN_HASH, ALICE, sign_ec)
    verify = ops.PsaVerifyHashRequest("ec", ecdsa, DIGEST, sig)
    assert p.runs_inline(Opcode.PSA_VERIFY_HASH, ALICE, verify)
    p.psa_verify_hash(ALICE, verify)
    # Per owner: bob's request for a name alice has cached is not inline (and finds no key).
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, BOB, sign_ec)
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, None, sign_ec)
    # RSA signing takes milliseconds: never inline, cached or not.
    p.psa_sign_hash(ALICE, sign_rsa)
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, ALICE, sign_rsa)
    # Other operations with the cached EC key still take a slot.
    assert not p.runs_inline(Opcode.PSA_EXPORT_PUBLIC_KEY, ALICE, ops.KeyNameRequest("ec"))
    # Destroyed: no longer inline; the same name re-created as RSA takes a slot.
    p.psa_destroy_key(ALICE, ops.KeyNameRequest("ec"))
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, ALICE, sign_ec)
    p.psa_generate_key(ALICE, ops.PsaGenerateKeyRequest(
        "ec", attrs(KeyType.rsa_key_pair(), 2048, pkcs1)))
    p.psa_sign_hash(ALICE, ops.PsaSignHashRequest("ec", pkcs1, DIGEST))
    assert not p.runs_inline(Opcode.PSA_SIGN_HASH, ALICE, sign_ec)
    store.close()
