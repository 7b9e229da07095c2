"""Fuzz target 1: the wire decoder on its own. Framing and header (`read_request` off a socket,
`check_fields`), the client's `unpack_response`, and the body codec (`decode_request` and
`decode_result` for every opcode). Whatever the bytes, the decoder either returns a value that
re-encodes to the same meaning or raises ParsecError with one of the statuses Parsec gives for
that step; nothing else escapes."""

from __future__ import annotations

import dataclasses
import socket

from hypothesis import given
from hypothesis import strategies as st

from fuzz.budget import fuzz_seconds, fuzz_settings, run_for
from fuzz.harness import FuzzEnv
from fuzz.strategies import mutated, protobuf_wire, split
from pqparsec.protocol import operations as ops
from pqparsec.protocol.framing import NoRequest, read_request
from pqparsec.protocol.header import HEADER_LEN, unpack_response
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ParsecError, ResponseStatus

S = ResponseStatus
BODY_LIMIT = 1 << 16
FRAMING_STATUSES = {S.INVALID_HEADER, S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED,
                    S.BODY_SIZE_EXCEEDS_LIMIT, S.CONNECTION_ERROR}
FIELD_STATUSES = {S.CONTENT_TYPE_NOT_SUPPORTED, S.ACCEPT_TYPE_NOT_SUPPORTED,
                  S.AUTHENTICATOR_DOES_NOT_EXIST, S.OPCODE_DOES_NOT_EXIST,
                  S.PROVIDER_DOES_NOT_EXIST}
BODY_STATUSES = {S.DESERIALIZING_BODY_FAILED, S.INVALID_ENCODING}


def check_framing(raw: bytes) -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(raw)
        a.shutdown(socket.SHUT_WR)
        try:
            request = read_request(b, BODY_LIMIT, 5.0)
        except NoRequest:
            assert raw == b""
            return
        except ParsecError as exc:
            assert exc.status in FRAMING_STATUSES, (exc, raw.hex())
            return
    assert raw != b""
    header = request.header
    # What was read is what was sent, and the header packs back to its bytes.
    assert header.pack() == raw[:HEADER_LEN]
    assert (len(request.body), len(request.auth)) == (header.body_len, header.auth_len)
    assert raw[HEADER_LEN:HEADER_LEN + header.body_len + header.auth_len] == \
        request.body + request.auth
    try:
        checked = header.check_fields()
    except ParsecError as exc:
        assert exc.status in FIELD_STATUSES, (exc, raw.hex())
        return
    assert (checked.opcode, checked.provider, checked.auth_type, checked.session) == \
        (header.opcode, header.provider, header.auth_type, header.session)
    check_body(checked.opcode, request.body)


def check_body(opcode: Opcode, body: bytes) -> None:
    for decode, encode in ((ops.decode_request, ops.encode_request),
                           (ops.decode_result, ops.encode_result)):
        try:
            value = decode(opcode, body)
        except ParsecError as exc:
            assert exc.status in BODY_STATUSES, (exc, opcode.name, body.hex())
            continue
        # A decoded value re-encodes, and decodes to itself again.
        assert decode(opcode, encode(opcode, value)) == value, (opcode.name, body.hex())


def check_client_header(raw: bytes) -> None:
    try:
        hdr = unpack_response(raw)
    except ParsecError as exc:
        assert exc.status in {S.INVALID_HEADER, S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED}, exc
        return
    assert hdr.pack() == raw[:HEADER_LEN]


def test_seeds_decode(fuzz_env: FuzzEnv) -> None:
    """Every seed goes through the decoder, and the client-built ones are whole, valid requests
    that decode as their opcode's request."""
    for raw in fuzz_env.seeds:
        check_framing(raw)
    for raw in fuzz_env.client_seeds:
        parts = split(raw)
        assert parts is not None
        header, body, _ = parts
        opcode = header.check_fields().opcode
        assert isinstance(ops.decode_request(opcode, body), ops.OPERATIONS[opcode].request)


def test_fuzz_framing_and_header(fuzz_env: FuzzEnv) -> None:
    seeds = st.sampled_from(fuzz_env.seeds)

    @fuzz_settings(100)
    @given(mutated(seeds) | st.binary(max_size=80))
    def round_(raw: bytes) -> None:
        check_framing(raw)
        check_client_header(raw)

    run_for(fuzz_seconds("framing"), round_)


def test_fuzz_body_decoder(fuzz_env: FuzzEnv) -> None:
    """Every opcode's request and result decoder, on any protobuf and on the seeds' bodies with
    bytes changed."""
    bodies = [parts[1] for parts in map(split, fuzz_env.seeds) if parts is not None]

    @st.composite
    def flipped(draw: st.DrawFn) -> bytes:
        body = draw(st.sampled_from(bodies))
        for _ in range(draw(st.integers(0, 3))):
            if body:
                i = draw(st.integers(0, len(body) - 1))
                body = body[:i] + bytes([draw(st.integers(0, 255))]) + body[i + 1:]
        return body

    @fuzz_settings(100)
    @given(st.sampled_from(list(Opcode)), protobuf_wire | flipped() | st.binary(max_size=64))
    def round_(opcode: Opcode, body: bytes) -> None:
        check_body(opcode, body)

    run_for(fuzz_seconds("body"), round_)


def test_header_round_trip_every_field(fuzz_env: FuzzEnv) -> None:
    """A header's fields, any values: packed, parsed, packed again gives the same bytes."""
    from pqparsec.protocol.header import RawHeader, parse_remainder

    @fuzz_settings(100)
    @given(st.builds(RawHeader, *[st.integers(0, 2**(8 * n) - 1) for n in
                                  (1, 1, 2, 1, 8, 1, 1, 1, 4, 2, 4, 2, 1, 1)]))
    def one(header: RawHeader) -> None:
        packed = header.pack()
        try:
            parsed = parse_remainder(packed[6:HEADER_LEN])
        except ParsecError as exc:
            assert exc.status in {S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED, S.INVALID_HEADER}
            assert (header.version_maj, header.version_min) != (1, 0) or \
                header.reserved1 or header.reserved2
            return
        assert parsed == header and dataclasses.replace(parsed).pack() == packed

    one()
