"""The protocol extension without a service: codec, opcodes, PSA model, policy rules."""

from __future__ import annotations

import pytest

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import (
    EXTENSION_OPCODES,
    PARSEC_CLIENT_OPCODES,
    Opcode,
    lookup,
)
from pqparsec.protocol.proto import psa_algorithm_pb2, psa_key_attributes_pb2, psa_sign_message_pb2
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.psa import convert as cv
from pqparsec.protocol.psa.policy import permits, sign_alg_compatible
from pqparsec.protocol.status import ParsecError, ResponseStatus

EXT_SIGN_ALGS = [
    SignAlg(SignKind.PURE_EDDSA), SignAlg(SignKind.ML_DSA), SignAlg(SignKind.DETERMINISTIC_ML_DSA),
    SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_512), SignAlg(SignKind.HASH_ML_DSA, ANY_HASH),
    SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA3_256), SignAlg(SignKind.SLH_DSA),
    SignAlg(SignKind.DETERMINISTIC_SLH_DSA), SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_256),
    SignAlg(SignKind.DETERMINISTIC_HASH_SLH_DSA, ANY_HASH),
]
EXT_KEY_TYPES = [
    KeyType(KeyKind.ML_KEM_KEY_PAIR), KeyType(KeyKind.ML_KEM_PUBLIC_KEY),
    KeyType(KeyKind.ML_DSA_KEY_PAIR), KeyType(KeyKind.ML_DSA_PUBLIC_KEY),
    *(KeyType.slh_dsa_key_pair(f) for f in SlhDsaFamily),
    *(KeyType.slh_dsa_public_key(f) for f in SlhDsaFamily),
    KeyType(KeyKind.XWING_KEY_PAIR), KeyType(KeyKind.XWING_PUBLIC_KEY),
    KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), KeyType.ecc_public_key(EccFamily.TWISTED_EDWARDS),
]


def test_extension_numbers_start_at_100() -> None:
    sig = psa_algorithm_pb2.Algorithm.AsymmetricSignature.DESCRIPTOR
    kt = psa_key_attributes_pb2.KeyType.DESCRIPTOR
    alg = psa_algorithm_pb2.Algorithm.DESCRIPTOR
    new_sig = {f.name: f.number for f in sig.fields if f.number > 6}
    assert min(new_sig.values()) == 100 and len(new_sig) == 9
    assert {f.number for f in kt.fields if f.number > 14} == set(range(100, 108))
    assert alg.fields_by_name["key_encapsulation"].number == 100
    assert kt.enum_types_by_name["EccFamily"].values_by_name["TWISTED_EDWARDS"].number == 100
    for name in ("psa_sign_hash", "psa_verify_hash", "psa_sign_message", "psa_verify_message"):
        mod = __import__(f"pqparsec.protocol.proto.{name}_pb2", fromlist=["Operation"])
        assert mod.Operation.DESCRIPTOR.fields_by_name["context"].number == 100
    # Our enum values mirror the protobuf field numbers.
    assert all(k.value == kt.fields_by_name[k.name.lower()].number for k in KeyKind)


def test_opcodes() -> None:
    assert int(Opcode.PSA_ENCAPSULATE) == 0x0100 and int(Opcode.PSA_DECAPSULATE) == 0x0101
    assert EXTENSION_OPCODES == {Opcode.PSA_ENCAPSULATE, Opcode.PSA_DECAPSULATE, Opcode.ADOPT_KEY}
    assert not (EXTENSION_OPCODES & PARSEC_CLIENT_OPCODES)
    assert all(op < 0x100 for op in PARSEC_CLIENT_OPCODES)
    assert lookup(0x0100) == Opcode.PSA_ENCAPSULATE
    assert Opcode.PSA_ENCAPSULATE.needs_identity and not Opcode.PSA_ENCAPSULATE.is_core


@pytest.mark.parametrize("alg", EXT_SIGN_ALGS, ids=lambda a: repr(a))
def test_sign_alg_round_trip(alg: SignAlg) -> None:
    req = ops.PsaSignMessageRequest("k", alg, b"msg", b"ctx")
    body = ops.encode_request(Opcode.PSA_SIGN_MESSAGE, req)
    assert ops.decode_request(Opcode.PSA_SIGN_MESSAGE, body) == req
    assert alg.is_extension


@pytest.mark.parametrize("kt", EXT_KEY_TYPES, ids=lambda k: k.describe())
def test_key_type_round_trip(kt: KeyType) -> None:
    attrs = KeyAttributes(kt, 128, KeyPolicy(UsageFlags(sign_message=True), KemAlg(KemKind.X_WING)))
    assert cv.attributes_from_bytes(cv.attributes_to_bytes(attrs)) == attrs
    assert attrs.is_extension and kt.is_extension
    assert kt.is_key_pair != kt.is_public_key
    if kt.is_key_pair:
        assert kt.public_type().is_public_key and kt.public_type().public_type() == kt.public_type()


def test_kem_requests_round_trip() -> None:
    out = KeyAttributes(KeyType.simple(KeyKind.DERIVE), 0, KeyPolicy(UsageFlags(derive=True)))
    for req in (ops.PsaEncapsulateRequest("k", KemKind.ML_KEM),
                ops.PsaEncapsulateRequest("k", KemKind.X_WING, "out", out)):
        body = ops.encode_request(Opcode.PSA_ENCAPSULATE, req)
        assert ops.decode_request(Opcode.PSA_ENCAPSULATE, body) == req
    req2 = ops.PsaDecapsulateRequest("k", KemKind.ML_KEM, b"\x01" * 768, "o", out)
    assert ops.decode_request(Opcode.PSA_DECAPSULATE,
                              ops.encode_request(Opcode.PSA_DECAPSULATE, req2)) == req2
    res = ops.PsaEncapsulateResult(b"ct", b"ss")
    assert ops.decode_result(Opcode.PSA_ENCAPSULATE,
                             ops.encode_result(Opcode.PSA_ENCAPSULATE, res)) == res


def test_kem_enum_zero_is_invalid_encoding() -> None:
    body = ops.encode_request(Opcode.PSA_ENCAPSULATE, ops.PsaEncapsulateRequest("k", KemKind.ML_KEM))
    from pqparsec.protocol.proto import psa_encapsulate_pb2
    msg = psa_encapsulate_pb2.Operation.FromString(body)
    msg.alg = 0
    with pytest.raises(ParsecError) as e:
        ops.decode_request(Opcode.PSA_ENCAPSULATE, msg.SerializeToString())
    assert e.value.status == ResponseStatus.INVALID_ENCODING


def test_no_context_is_byte_identical_to_parsec() -> None:
    """A request without a context encodes exactly as Parsec's message (field 100 absent)."""
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    ours = ops.encode_request(Opcode.PSA_SIGN_MESSAGE, ops.PsaSignMessageRequest("k", alg, b"m"))
    parsec = psa_sign_message_pb2.Operation(key_name="k", message=b"m")
    parsec.alg.ecdsa.hash_alg.specific = int(Hash.SHA_256)
    assert ours == parsec.SerializeToString()
    with_ctx = ops.encode_request(Opcode.PSA_SIGN_MESSAGE,
                                  ops.PsaSignMessageRequest("k", alg, b"m", b"c"))
    assert with_ctx != ours and with_ctx.startswith(ours)


def test_classic_attributes_are_not_extension() -> None:
    attrs = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                          KeyPolicy(UsageFlags(sign_hash=True), SignAlg(SignKind.ECDSA, ANY_HASH)))
    assert not attrs.is_extension
    ext_alg = KeyAttributes(KeyType.simple(KeyKind.RAW_DATA), 8,
                            KeyPolicy(UsageFlags(), SignAlg(SignKind.ML_DSA)))
    assert ext_alg.is_extension


def test_policy_verify_treats_hedged_and_deterministic_alike() -> None:
    for hedged, det in ((SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA),
                        (SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA)):
        assert permits(SignAlg(hedged), SignAlg(hedged))
        assert not permits(SignAlg(hedged), SignAlg(det))
        assert not permits(SignAlg(det), SignAlg(hedged))
        assert permits(SignAlg(hedged), SignAlg(det), verify=True)
        assert permits(SignAlg(det), SignAlg(hedged), verify=True)
    pol = SignAlg(SignKind.HASH_ML_DSA, ANY_HASH)
    assert permits(pol, SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_384))
    assert not permits(pol, SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_384))
    assert permits(pol, SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_384), verify=True)
    assert not permits(pol, SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_384), verify=True)
    assert not permits(SignAlg(SignKind.ML_DSA), SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256), True)
    assert permits(KemAlg(KemKind.ML_KEM), KemAlg(KemKind.ML_KEM))
    assert not permits(KemAlg(KemKind.ML_KEM), KemAlg(KemKind.X_WING))
    assert not permits(NoAlgorithm(), KemAlg(KemKind.ML_KEM))


def test_sign_alg_key_compatibility() -> None:
    ed = KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS)
    p256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    assert sign_alg_compatible(ed, SignAlg(SignKind.PURE_EDDSA))
    assert not sign_alg_compatible(ed, SignAlg(SignKind.ECDSA, Hash.SHA_256))
    assert not sign_alg_compatible(p256, SignAlg(SignKind.PURE_EDDSA))
    assert sign_alg_compatible(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), SignAlg(SignKind.ML_DSA))
    assert not sign_alg_compatible(KeyType(KeyKind.ML_DSA_KEY_PAIR), SignAlg(SignKind.SLH_DSA))
    assert sign_alg_compatible(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F),
                               SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_256))


def test_slh_dsa_family_psa_values() -> None:
    # PSA_SLH_DSA_FAMILY_* (PSA Crypto API 1.3/1.4 PQC extension, appendix B: key pair
    # 0x7182/0x7184/0x718B/0x718D = 0x7180 | family, public key 0x4180 | family).
    assert [f.psa_value for f in SlhDsaFamily] == [0x02, 0x04, 0x0B, 0x0D]
    assert [0x7180 | f.psa_value for f in SlhDsaFamily] == [0x7182, 0x7184, 0x718B, 0x718D]
