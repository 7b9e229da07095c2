"""The 36-byte header: byte layout, round trip, and each validation error with its status."""

from __future__ import annotations

import itertools
import struct

import pytest
from pqptest.service import load_mock_vectors
from pqptest.wire import pack_wire_header, unpack_wire_header

from pqparsec.protocol.header import (
    HEADER_LEN,
    HEADER_SIZE,
    MAGIC,
    RawHeader,
    check_header_size,
    error_response,
    parse_preamble,
    parse_remainder,
    request_header,
    unpack_response,
)
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import PingResult, encode_result
from pqparsec.protocol.status import ParsecError, ResponseStatus

S = ResponseStatus


def test_constants() -> None:
    assert MAGIC == 0x5EC0A710
    assert HEADER_SIZE == 30
    assert HEADER_LEN == 36


def test_ping_golden_vector_byte_exact() -> None:
    request, response = load_mock_vectors()["ping"]
    assert RawHeader(opcode=Opcode.PING).pack() == request
    assert request_header(Opcode.PING, 0, 0, 0, 0) == request
    body = encode_result(Opcode.PING, PingResult(1, 0))
    assert body == b"\x08\x01"  # field 1 = 1; minor 0 is omitted by proto3
    assert RawHeader(opcode=Opcode.PING, body_len=len(body)).pack() + body == response
    assert request.hex() == "10a7c05e1e00010000000000000000000000000000000000000000000100000000000000"


def test_every_field_at_its_offset() -> None:
    hdr = RawHeader(version_maj=1, version_min=0, flags=0xA1B2, provider=0xC3,
                    session=0x1122334455667788, content_type=0xD4, accept_type=0xE5, auth_type=0xF6,
                    body_len=0x0A0B0C0D, auth_len=0x1A1B, opcode=0x2A2B2C2D, status=0x3A3B,
                    reserved1=0x4C, reserved2=0x5D)
    b = hdr.pack()
    assert len(b) == 36
    assert b[0:4] == bytes.fromhex("10a7c05e")
    assert b[4:6] == bytes.fromhex("1e00")
    assert b[6] == 1 and b[7] == 0
    assert b[8:10] == bytes.fromhex("b2a1")
    assert b[10] == 0xC3
    assert b[11:19] == bytes.fromhex("8877665544332211")
    assert (b[19], b[20], b[21]) == (0xD4, 0xE5, 0xF6)
    assert b[22:26] == bytes.fromhex("0d0c0b0a")
    assert b[26:28] == bytes.fromhex("1b1a")
    assert b[28:32] == bytes.fromhex("2d2c2b2a")
    assert b[32:34] == bytes.fromhex("3b3a")
    assert (b[34], b[35]) == (0x4C, 0x5D)
    # and the independent packer of the test support agrees
    assert b == pack_wire_header(flags=0xA1B2, provider=0xC3, session=0x1122334455667788,
                                 content_type=0xD4, accept_type=0xE5, auth_type=0xF6,
                                 body_len=0x0A0B0C0D, auth_len=0x1A1B, opcode=0x2A2B2C2D,
                                 status=0x3A3B, reserved1=0x4C, reserved2=0x5D)


@pytest.mark.parametrize("fields", [
    {},
    {"provider": 5, "session": 2**64 - 1, "body_len": 2**32 - 1, "auth_len": 2**16 - 1},
    {"opcode": 0xFFFFFFFF, "status": 0xFFFF, "flags": 0xFFFF, "auth_type": 255},
    {"content_type": 7, "accept_type": 9, "opcode": Opcode.CAN_DO_CRYPTO, "status": 1152},
])
def test_round_trip(fields: dict[str, int]) -> None:
    hdr = RawHeader(**fields)
    packed = hdr.pack()
    assert unpack_response(packed) == hdr
    assert parse_remainder(packed[6:]) == hdr
    assert parse_preamble(packed[:6]) == 30
    assert unpack_wire_header(packed) == {**unpack_wire_header(pack_wire_header()), **fields}


def test_request_header_fields() -> None:
    b = request_header(Opcode.PSA_SIGN_HASH, ProviderId.MBED_CRYPTO, 77, AuthType.DIRECT, 5,
                       session=42)
    f = unpack_wire_header(b)
    assert (f["opcode"], f["provider"], f["body_len"], f["auth_type"], f["auth_len"], f["session"]) \
        == (4, 1, 77, 1, 5, 42)
    assert f["status"] == f["flags"] == f["content_type"] == f["accept_type"] == 0


# -- preamble and constant fields ---------------------------------------------------------------

@pytest.mark.parametrize("magic", [0, 0xDEADBEEF, 0x10A7C05E, 0x5EC0A711])
def test_bad_magic(magic: int) -> None:
    with pytest.raises(ParsecError) as e:
        parse_preamble(struct.pack("<IH", magic, 30))
    assert e.value.status == S.INVALID_HEADER
    with pytest.raises(ParsecError) as e:
        unpack_response(pack_wire_header(magic=magic))
    assert e.value.status == S.INVALID_HEADER


@pytest.mark.parametrize("size", [0, 1, 29, 31, 36, 0xFFFF])
def test_header_size_other_than_30(size: int) -> None:
    # parse_preamble returns the announced size (the reader consumes that many bytes first) ...
    assert parse_preamble(struct.pack("<IH", MAGIC, size)) == size
    # ... and then the size is rejected
    with pytest.raises(ParsecError) as e:
        check_header_size(size)
    assert e.value.status == S.INVALID_HEADER
    with pytest.raises(ParsecError) as e:
        unpack_response(pack_wire_header(header_size=size))
    assert e.value.status == S.INVALID_HEADER


def test_header_size_30_accepted() -> None:
    check_header_size(30)


@pytest.mark.parametrize("maj,mnr", [(0, 0), (1, 1), (2, 0), (0, 1), (255, 255)])
def test_version_other_than_1_0(maj: int, mnr: int) -> None:
    with pytest.raises(ParsecError) as e:
        parse_remainder(pack_wire_header(version_maj=maj, version_min=mnr)[6:])
    assert e.value.status == S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED


@pytest.mark.parametrize("r1,r2", [(1, 0), (0, 1), (0xFF, 0xFF), (56, 0)])
def test_reserved_not_zero(r1: int, r2: int) -> None:
    with pytest.raises(ParsecError) as e:
        parse_remainder(pack_wire_header(reserved1=r1, reserved2=r2)[6:])
    assert e.value.status == S.INVALID_HEADER


def test_version_checked_before_reserved() -> None:
    with pytest.raises(ParsecError) as e:
        parse_remainder(pack_wire_header(version_maj=2, reserved1=1)[6:])
    assert e.value.status == S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED


def test_short_response_header() -> None:
    with pytest.raises(ParsecError) as e:
        unpack_response(RawHeader().pack()[:35])
    assert e.value.status == S.INVALID_HEADER


def test_flags_and_status_are_not_validated() -> None:
    hdr = parse_remainder(pack_wire_header(flags=0xFFFF, status=0xFFFF, opcode=1)[6:])
    assert hdr.check_fields().opcode == Opcode.PING


# -- typed fields (checked after body and auth were read) ---------------------------------------

def _check(**fields: int) -> ResponseStatus | None:
    hdr = RawHeader(**{"opcode": 1, **fields})
    try:
        hdr.check_fields()
    except ParsecError as exc:
        return exc.status
    return None


@pytest.mark.parametrize("fields,status", [
    ({"content_type": 1}, S.CONTENT_TYPE_NOT_SUPPORTED),
    ({"content_type": 0xFF}, S.CONTENT_TYPE_NOT_SUPPORTED),
    ({"accept_type": 1}, S.ACCEPT_TYPE_NOT_SUPPORTED),
    ({"accept_type": 0xFF}, S.ACCEPT_TYPE_NOT_SUPPORTED),
    ({"auth_type": 5}, S.AUTHENTICATOR_DOES_NOT_EXIST),
    ({"auth_type": 0xFF}, S.AUTHENTICATOR_DOES_NOT_EXIST),
    ({"opcode": 0}, S.OPCODE_DOES_NOT_EXIST),
    ({"opcode": 0x1D}, S.OPCODE_DOES_NOT_EXIST),
    ({"opcode": 0x21}, S.OPCODE_DOES_NOT_EXIST),
    ({"opcode": 0xFFFF}, S.OPCODE_DOES_NOT_EXIST),
    ({"opcode": 0x10001}, S.OPCODE_DOES_NOT_EXIST),
    ({"provider": 6}, S.PROVIDER_DOES_NOT_EXIST),
    ({"provider": 0xFF}, S.PROVIDER_DOES_NOT_EXIST),
])
def test_typed_field_errors(fields: dict[str, int], status: ResponseStatus) -> None:
    assert _check(**fields) == status


def test_typed_field_precedence() -> None:
    # content type -> accept type -> auth type -> opcode -> provider (the Rust service's order)
    bad = {"content_type": 1, "accept_type": 1, "auth_type": 0xFF, "opcode": 0xFFFF, "provider": 0xFF}
    order = [S.CONTENT_TYPE_NOT_SUPPORTED, S.ACCEPT_TYPE_NOT_SUPPORTED,
             S.AUTHENTICATOR_DOES_NOT_EXIST, S.OPCODE_DOES_NOT_EXIST, S.PROVIDER_DOES_NOT_EXIST]
    names = list(bad)
    for i, expected in enumerate(order):
        assert _check(**{k: bad[k] for k in names[i:]}) == expected
    # every pair: the earlier field wins
    for a, b in itertools.combinations(range(len(names)), 2):
        assert _check(**{names[a]: bad[names[a]], names[b]: bad[names[b]]}) == order[a]


@pytest.mark.parametrize("auth_type", list(AuthType))
def test_every_defined_auth_type_passes_the_header_check(auth_type: AuthType) -> None:
    # Jwt (2) exists in the enum: it fails later, as AuthenticatorNotRegistered
    assert RawHeader(opcode=1, auth_type=auth_type).check_fields().auth_type == auth_type


@pytest.mark.parametrize("provider", list(ProviderId))
def test_every_provider_id_passes_the_header_check(provider: ProviderId) -> None:
    assert RawHeader(opcode=1, provider=provider).check_fields().provider == provider


def test_check_fields_result() -> None:
    req = RawHeader(provider=1, session=9, auth_type=1, body_len=3, auth_len=4,
                    opcode=Opcode.PSA_GENERATE_KEY).check_fields()
    assert (req.provider, req.session, req.auth_type, req.opcode, req.body_len, req.auth_len) == \
        (ProviderId.MBED_CRYPTO, 9, AuthType.DIRECT, Opcode.PSA_GENERATE_KEY, 3, 4)


# -- responses ----------------------------------------------------------------------------------

def test_error_response_is_header_level() -> None:
    b = error_response(S.INVALID_HEADER)
    f = unpack_wire_header(b)
    assert len(b) == 36
    assert (f["provider"], f["session"], f["opcode"], f["body_len"], f["status"]) == (0, 0, 1, 0, 17)
    assert f["auth_type"] == f["auth_len"] == f["reserved1"] == f["reserved2"] == f["flags"] == 0


def test_response_echoes_request_header() -> None:
    req = RawHeader(provider=1, session=0xABCDEF, auth_type=1, body_len=10, auth_len=3,
                    opcode=Opcode.PSA_SIGN_HASH, flags=7, status=99).check_fields()
    f = unpack_wire_header(req.response(S.PSA_ERROR_DOES_NOT_EXIST, body_len=5))
    assert (f["provider"], f["session"], f["opcode"], f["status"], f["body_len"]) == \
        (1, 0xABCDEF, 4, 1140, 5)
    # request-only fields are zero in a response
    assert f["auth_type"] == f["auth_len"] == f["flags"] == f["content_type"] == f["accept_type"] == 0


def test_status_codes_match_parsec() -> None:
    expected = {0: "Success", 1: "WrongProviderId", 2: "ContentTypeNotSupported",
                3: "AcceptTypeNotSupported", 4: "WireProtocolVersionNotSupported",
                5: "ProviderNotRegistered", 6: "ProviderDoesNotExist", 7: "DeserializingBodyFailed",
                8: "SerializingBodyFailed", 9: "OpcodeDoesNotExist", 10: "ResponseTooLarge",
                11: "AuthenticationError", 12: "AuthenticatorDoesNotExist",
                13: "AuthenticatorNotRegistered", 14: "KeyInfoManagerError", 15: "ConnectionError",
                16: "InvalidEncoding", 17: "InvalidHeader", 18: "WrongProviderUuid",
                19: "NotAuthenticated", 20: "BodySizeExceedsLimit", 21: "AdminOperation",
                1132: "PsaErrorGenericError", 1133: "PsaErrorNotPermitted",
                1134: "PsaErrorNotSupported", 1135: "PsaErrorInvalidArgument",
                1139: "PsaErrorAlreadyExists", 1140: "PsaErrorDoesNotExist",
                1149: "PsaErrorInvalidSignature", 1152: "PsaErrorDataCorrupt"}
    for value, name in expected.items():
        assert ResponseStatus(value).parsec_name == name
    assert 1144 not in {int(s) for s in ResponseStatus}
