"""The PcrBinding extension (psa_key_attributes.KeyPolicy field 100) on the wire: attributes
without a binding are Parsec's bytes exactly; a binding is one extra field Parsec's parsers skip;
its checks."""

from __future__ import annotations

import pytest

from pqparsec.client import templates
from pqparsec.protocol.proto import psa_key_attributes_pb2 as attr_pb
from pqparsec.protocol.psa import Hash, KeyAttributes, PcrBinding
from pqparsec.protocol.psa.convert import attributes_from_bytes, attributes_to_bytes
from pqparsec.protocol.psa.policy import check_pcr_binding
from pqparsec.protocol.status import ParsecError, ResponseStatus


# A protobuf writer independent of the generated code: Parsec's field numbers, by hand.
def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


# KeyAttributes { key_type { ecc_key_pair(11) { curve_family: SECP_R1 (2) } } key_bits: 256
#   key_policy { key_usage_flags { sign_message(6) verify_message(7) sign_hash(8)
#   verify_hash(9) } key_algorithm { asymmetric_signature(6) { ecdsa(4) { hash_alg {
#   specific: SHA_256 (7) } } } } } }
PARSEC_ECC_USAGE = b"".join(field(n, 1) for n in (6, 7, 8, 9))
PARSEC_ECDSA_SHA256 = field(6, field(4, field(1, field(2, 7))))
PARSEC_POLICY = field(1, PARSEC_ECC_USAGE) + field(2, PARSEC_ECDSA_SHA256)
PARSEC_ECC_ATTRIBUTES = (field(1, field(11, field(1, 2))) + field(2, 256)
                         + field(3, PARSEC_POLICY))


def test_attributes_without_a_binding_are_parsecs_bytes() -> None:
    attrs = templates.ecc_signing(256)
    assert attrs.pcr_binding is None
    assert attributes_to_bytes(attrs) == PARSEC_ECC_ATTRIBUTES
    assert attributes_from_bytes(PARSEC_ECC_ATTRIBUTES) == attrs


def test_a_binding_is_one_extension_field_of_the_policy() -> None:
    attrs = templates.bound_to_pcrs(templates.ecc_signing(256), [7, 16], b"\x01" * 32)
    binding = field(1, bytes([7, 16])) + field(2, int(Hash.SHA_256)) + field(3, b"\x01" * 32)
    policy = PARSEC_POLICY + field(100, binding)  # repeated uint32: packed, as proto3 does
    expected = field(1, field(11, field(1, 2))) + field(2, 256) + field(3, policy)
    assert attributes_to_bytes(attrs) == expected
    assert attributes_from_bytes(expected) == attrs
    # What a Parsec parser keeps of it (it skips field 100) is the unbound key.
    msg = attr_pb.KeyAttributes()
    msg.ParseFromString(expected)
    msg.key_policy.ClearField("pcr_binding")
    assert msg.SerializeToString(deterministic=True) == PARSEC_ECC_ATTRIBUTES
    assert attrs.without_extension_fields() == templates.ecc_signing(256)
    assert not attrs.is_extension  # the key type and algorithm are Parsec's


def test_bank_none_means_sha256() -> None:
    msg = attr_pb.KeyAttributes()
    msg.ParseFromString(PARSEC_ECC_ATTRIBUTES)
    msg.key_policy.pcr_binding.pcrs.append(16)
    decoded = attributes_from_bytes(msg.SerializeToString())
    assert decoded.pcr_binding == PcrBinding((16,), Hash.SHA_256, b"")


def test_bank_zero_round_trips_as_sha256() -> None:
    attrs = templates.bound_to_pcrs(templates.ecc_signing(256), [0])
    assert attributes_from_bytes(attributes_to_bytes(attrs)) == attrs


@pytest.mark.parametrize("pcrs, digest, message", [
    ((), b"", "at least one PCR"),
    ((24,), b"", "PCR index 24 is out of range"),
    ((16, 3, 16), b"", "PCR 16 is named more than once"),
    ((16,), b"\0" * 48, "48 bytes for the SHA_256 bank"),
])
def test_malformed_bindings(pcrs: tuple[int, ...], digest: bytes, message: str) -> None:
    with pytest.raises(ParsecError, match=message) as exc:
        check_pcr_binding(PcrBinding(pcrs, Hash.SHA_256, digest))
    assert exc.value.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_binding_is_normalised_to_ascending_pcrs() -> None:
    assert check_pcr_binding(PcrBinding((23, 0, 7))).pcrs == (0, 7, 23)
    assert check_pcr_binding(PcrBinding((16,), Hash.SHA_256, b"\0" * 32)).digest == b"\0" * 32


def test_attributes_equality_ignores_nothing() -> None:
    """A bound and an unbound key differ (the key store and ListKeys keep the binding)."""
    plain = templates.ecc_signing(256)
    bound: KeyAttributes = templates.bound_to_pcrs(plain, [16])
    assert bound != plain and bound.policy.pcr_binding == PcrBinding((16,))
