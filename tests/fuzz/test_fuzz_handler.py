"""Fuzz target 2: the whole request handler in-process (fuzz.harness): raw requests, from the
seeds mutated or built from valid typed requests of every opcode, read off a socket, checked,
dispatched to the software provider over a real SQLite key store. Every answer must be a
well-formed Parsec response and no request may cause an internal error; afterwards, another
application's keys, created before the run, must still exist and work."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes as crypto_hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import assume, given
from hypothesis import strategies as st

from fuzz.budget import fuzz_seconds, fuzz_settings, run_for
from fuzz.harness import ADMIN, FuzzEnv, check_response
from fuzz.seeds import FUZZ_APP, FUZZ_KEYS, opcodes_of
from fuzz.strategies import (
    U32,
    encrypt_algs,
    hashes,
    kdf_algs,
    key_attributes,
    mutated,
    pcr_bindings,
    requests,
)
from pqparsec.client import templates
from pqparsec.protocol import operations as ops
from pqparsec.protocol.header import request_header
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    ANY_HASH,
    AeadAlg,
    AeadKind,
    AnyHash,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    Hash,
    HashAlg,
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

# An application the fuzzer never authenticates as (inputs naming it are skipped).
OWNER = "keys-owner-5e0a91"
OWNER_KEYS = ("ow-ecc", "ow-aes", "ow-hmac")

names = st.sampled_from([*FUZZ_KEYS, *OWNER_KEYS, "v", "fz-new", FUZZ_APP, "fz-victim", ""]) | \
    st.text(max_size=12)
auths = st.sampled_from([FUZZ_APP.encode(), ADMIN.encode(), b"fz-victim", b""]) | \
    st.binary(max_size=12)
# Key sizes the software provider knows (no RSA above 2048: it takes long to generate).
SCENARIO_BITS = (8, 128, 160, 192, 224, 255, 256, 384, 448, 512, 521, 768, 1024, 2048)
# GenerateRandom sizes: around buffer_size_limit (1 MiB) and the extremes of the uint64.
random_sizes = st.integers(0, 4096) | st.sampled_from([2**20 - 64, 2**20, 2**20 + 1, 2**32,
                                                       2**63, 2**64 - 1])


TYPED = {op: requests(op, names, random_sizes) for op in Opcode}


@st.composite
def typed_requests(draw: st.DrawFn) -> bytes:
    """A valid request of any opcode (valid protobuf, any parameter values) with a header as a
    client would send it, now and then to another provider or without authentication."""
    opcode = draw(st.sampled_from(list(Opcode)))
    body = ops.encode_request(opcode, draw(TYPED[opcode]))
    provider = ProviderId.CORE if opcode.is_core else ProviderId.MBED_CRYPTO
    provider = draw(st.sampled_from([provider] * 6 + list(ProviderId)))
    auth_type = draw(st.sampled_from([AuthType.DIRECT] * 4 + [AuthType.NO_AUTH]))
    auth = draw(auths) if auth_type == AuthType.DIRECT else b""
    session = draw(st.integers(0, 2**64 - 1))
    return request_header(opcode, provider, len(body), auth_type, len(auth), session) + body + auth


# Where a request's `alg` comes from the key's policy algorithm.
_POLICY_TO_REQUEST: dict[type, Callable[[Any], Any]] = {
    SignAlg: lambda a: a, AeadAlg: lambda a: a, MacAlg: lambda a: a, EncryptAlg: lambda a: a,
    CipherAlg: lambda a: a.mode, KeyAgreementAlg: lambda a: a.raw, KemAlg: lambda a: a.kind,
    HashAlg: lambda a: a.hash,
}
KEY_OPCODES = [op for op in Opcode
               if {"key_name", "private_key_name"} & {f.name for f in
                                                      dataclasses.fields(ops.OPERATIONS[op].request)}]
ALL_USAGE = UsageFlags(*[True] * len(dataclasses.fields(UsageFlags)))
SCENARIO_KEY = "fz-scenario"
ON_SCENARIO_KEY = {op: requests(op, st.just(SCENARIO_KEY)) for op in Opcode}


def _raw(opcode: Opcode, request: Any, auth: bytes = FUZZ_APP.encode()) -> bytes:
    body = ops.encode_request(opcode, request)
    provider = ProviderId.CORE if opcode.is_core else ProviderId.MBED_CRYPTO
    return request_header(opcode, provider, len(body), AuthType.DIRECT, len(auth)) + body + auth


_hash_or_any = hashes | st.just(ANY_HASH)
_small = st.none() | st.integers(0, 80) | st.sampled_from([U32])
_ecdsa = st.one_of(st.builds(SignAlg, st.sampled_from([SignKind.ECDSA, SignKind.DETERMINISTIC_ECDSA]),
                             _hash_or_any),
                   st.just(SignAlg(SignKind.ECDSA_ANY)), st.just(KeyAgreementAlg(RawKeyAgreement.ECDH)))
_rsa = st.one_of(
    st.builds(SignAlg, st.sampled_from([SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS]), _hash_or_any),
    st.just(SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW)), encrypt_algs)
_kinds = {k: KeyType.simple(k) for k in KeyKind}
# Key types with sizes and policy algorithms that belong together, so that most keys get made and
# most operations on them get past the policy checks to the cryptography.
USABLE_KEYS: list[tuple[st.SearchStrategy[KeyType], st.SearchStrategy[int], st.SearchStrategy[Any]]] = [
    (st.just(KeyType.ecc_key_pair(EccFamily.SECP_R1)), st.sampled_from([256, 384, 521]), _ecdsa),
    (st.just(KeyType.ecc_key_pair(EccFamily.SECP_K1)), st.just(256), _ecdsa),
    (st.just(KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1)), st.sampled_from([256, 384, 512]),
     _ecdsa),
    (st.just(KeyType.ecc_key_pair(EccFamily.MONTGOMERY)), st.sampled_from([255, 448]),
     st.just(KeyAgreementAlg(RawKeyAgreement.ECDH))),
    (st.just(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS)), st.sampled_from([255, 448]),
     st.just(SignAlg(SignKind.PURE_EDDSA))),
    (st.just(KeyType.rsa_key_pair()), st.sampled_from([1024, 1032, 2048]), _rsa),
    (st.just(_kinds[KeyKind.AES]), st.sampled_from([128, 192, 256]), st.one_of(
        st.builds(CipherAlg, st.sampled_from(list(CipherMode))),
        st.builds(AeadAlg, st.sampled_from([AeadKind.CCM, AeadKind.GCM]), _small),
        st.builds(MacAlg, st.sampled_from([MacKind.CMAC, MacKind.CBC_MAC]), st.none(), _small))),
    (st.just(_kinds[KeyKind.CHACHA20]), st.just(256), st.one_of(
        st.builds(AeadAlg, st.just(AeadKind.CHACHA20_POLY1305), _small),
        st.just(CipherAlg(CipherMode.STREAM_CIPHER)))),
    (st.just(_kinds[KeyKind.HMAC]), st.sampled_from([8, 128, 256, 512, 1024]),
     st.builds(MacAlg, st.just(MacKind.HMAC), hashes, _small)),
    (st.sampled_from([_kinds[KeyKind.RAW_DATA], _kinds[KeyKind.DERIVE]]), st.sampled_from([128, 256]),
     st.just(NoAlgorithm()) | kdf_algs),
    (st.just(KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)), st.sampled_from([2048, 3072]),
     st.just(KeyAgreementAlg(RawKeyAgreement.FFDH))),
    (st.just(_kinds[KeyKind.ML_KEM_KEY_PAIR]), st.sampled_from([512, 768, 1024]),
     st.just(KemAlg(KemKind.ML_KEM))),
    (st.just(_kinds[KeyKind.XWING_KEY_PAIR]), st.just(768), st.just(KemAlg(KemKind.X_WING))),
    (st.just(_kinds[KeyKind.ML_DSA_KEY_PAIR]), st.sampled_from([128, 192, 256]), st.one_of(
        st.builds(SignAlg, st.sampled_from([SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA])),
        st.builds(SignAlg, st.sampled_from([SignKind.HASH_ML_DSA,
                                            SignKind.DETERMINISTIC_HASH_ML_DSA]), _hash_or_any))),
    # The fast (F) SLH-DSA sets only: signing with the small ones takes seconds.
    (st.builds(KeyType.slh_dsa_key_pair, st.sampled_from([SlhDsaFamily.SHA2_F, SlhDsaFamily.SHAKE_F])),
     st.sampled_from([128, 192, 256]), st.one_of(
        st.builds(SignAlg, st.sampled_from([SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA])),
        st.builds(SignAlg, st.sampled_from([SignKind.HASH_SLH_DSA,
                                            SignKind.DETERMINISTIC_HASH_SLH_DSA]), _hash_or_any))),
]


_EXPORTS = (Opcode.PSA_EXPORT_KEY, Opcode.PSA_EXPORT_PUBLIC_KEY)
# The operations a key with a policy algorithm of this type is for.
OPCODES_FOR: dict[type, tuple[Opcode, ...]] = {
    SignAlg: (Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
              Opcode.PSA_VERIFY_MESSAGE, *_EXPORTS),
    EncryptAlg: (Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT, *_EXPORTS),
    AeadAlg: (Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, *_EXPORTS),
    CipherAlg: (Opcode.PSA_CIPHER_ENCRYPT, Opcode.PSA_CIPHER_DECRYPT, *_EXPORTS),
    MacAlg: (Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY, *_EXPORTS),
    KeyAgreementAlg: (Opcode.PSA_RAW_KEY_AGREEMENT, *_EXPORTS),
    KemAlg: (Opcode.PSA_ENCAPSULATE, Opcode.PSA_DECAPSULATE, *_EXPORTS),
}


@st.composite
def usable_key_attributes(draw: st.DrawFn) -> KeyAttributes:
    key_type, bits, alg = draw(st.sampled_from(USABLE_KEYS))
    kt = draw(key_type)
    if draw(st.integers(0, 5)) == 0:
        kt = kt.public_type()  # imported (or refused to be generated)
    return KeyAttributes(kt, draw(bits), KeyPolicy(ALL_USAGE, draw(alg)))


def _request_alg(policy: Any, draw: st.DrawFn) -> Any:
    """An algorithm for a request on a key with policy algorithm `policy`: the same, a wildcard
    filled in, or (now and then) the enum a request takes for it."""
    if isinstance(policy, SignAlg) and isinstance(policy.hash, AnyHash):
        return SignAlg(policy.kind, draw(hashes))
    return _POLICY_TO_REQUEST.get(type(policy), lambda a: a)(policy)


@st.composite
def key_scenarios(draw: st.DrawFn) -> list[bytes]:
    """A key (a type, size and policy that belong together most of the time, any otherwise),
    generated or imported, then used by a few operations with its own policy's algorithm (so
    that they get past the policy checks to the cryptography), or any other."""
    usable = usable_key_attributes()
    attrs = draw(st.one_of(usable, usable, usable, key_attributes(
        bits=st.sampled_from(SCENARIO_BITS), pcr=st.sampled_from([None] * 3) | pcr_bindings)))
    out = [_raw(Opcode.PSA_DESTROY_KEY, ops.KeyNameRequest(SCENARIO_KEY))]
    if not attrs.key_type.is_public_key and draw(st.integers(0, 3)):
        out.append(_raw(Opcode.PSA_GENERATE_KEY, ops.PsaGenerateKeyRequest(SCENARIO_KEY, attrs)))
    else:
        data = draw(st.binary(max_size=80) | st.sampled_from([bytes(16), bytes(32), b"\x04" * 65]))
        out.append(_raw(Opcode.PSA_IMPORT_KEY, ops.PsaImportKeyRequest(SCENARIO_KEY, attrs, data)))
    for _ in range(draw(st.integers(1, 4))):
        fitting = OPCODES_FOR.get(type(attrs.algorithm), ())
        opcode = draw(st.sampled_from(KEY_OPCODES) if not fitting or not draw(st.integers(0, 3))
                      else st.sampled_from(fitting))
        request = draw(ON_SCENARIO_KEY[opcode])
        changes: dict[str, Any] = {}
        if hasattr(request, "private_key_name"):
            changes["private_key_name"] = SCENARIO_KEY
        if hasattr(request, "alg") and draw(st.integers(0, 5)):
            alg = _request_alg(attrs.algorithm, draw)
            if isinstance(alg, typing.get_type_hints(type(request))["alg"]):
                changes["alg"] = alg
        for name, size in (("hash", 32), ("nonce", 12)):
            if hasattr(request, name) and draw(st.booleans()):
                h = getattr(changes.get("alg", request.alg), "hash", None)
                changes[name] = bytes(h.digest_size if isinstance(h, Hash) else size)
        out.append(_raw(opcode, dataclasses.replace(request, **changes)))
    return out


def test_seeds_cover_every_opcode(fuzz_env: FuzzEnv) -> None:
    assert opcodes_of(fuzz_env.client_seeds) == set(Opcode)
    assert len(fuzz_env.vector_seeds) == 10


def test_seeds_through_the_handler(fuzz_env: FuzzEnv) -> None:
    service = fuzz_env.service
    for raw in fuzz_env.seeds:
        check_response(service.handle(raw))
        service.check_no_internal_error(raw)


def test_fuzz_request_handler(fuzz_env: FuzzEnv) -> None:
    service = fuzz_env.service
    owner = service.client(OWNER)
    for name, attrs in zip(OWNER_KEYS, (templates.ecc_signing(), templates.aead(bits=128),
                                        templates.hmac()), strict=True):
        owner.generate_key(name, attrs)
    public = owner.export_public_key("ow-ecc")

    seeds = st.sampled_from(fuzz_env.seeds)

    @fuzz_settings(25)
    @given(mutated(seeds, auths=auths) | typed_requests() | mutated(typed_requests(), auths=auths))
    def round_(raw: bytes) -> None:
        assume(OWNER.encode() not in raw)
        check_response(service.handle(raw))
        service.check_no_internal_error(raw)

    run_for(fuzz_seconds("handler"), round_)

    @fuzz_settings(10)
    @given(key_scenarios())
    def scenario(raws: list[bytes]) -> None:
        for raw in raws:
            check_response(service.handle(raw))
            service.check_no_internal_error(raw)

    run_for(fuzz_seconds("scenarios"), scenario)

    # The owner's keys are untouched and work.
    owner = service.client(OWNER)
    assert {k.name for k in owner.list_keys(include_extensions=True)} == set(OWNER_KEYS)
    assert owner.export_public_key("ow-ecc") == public
    signature = owner.sign("ow-ecc", b"after the fuzz")  # DER, hashed by the client
    public_key = owner.public_key("ow-ecc")
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, b"after the fuzz", ec.ECDSA(crypto_hashes.SHA256()))
    gcm = AeadAlg(AeadKind.GCM)
    sealed = owner.aead_encrypt("ow-aes", gcm, bytes(12), b"ad", b"secret")
    assert owner.aead_decrypt("ow-aes", gcm, bytes(12), b"ad", sealed) == b"secret"
    hmac = MacAlg(MacKind.HMAC, Hash.SHA_256)
    owner.mac_verify("ow-hmac", hmac, b"data", owner.mac_compute("ow-hmac", hmac, b"data"))
