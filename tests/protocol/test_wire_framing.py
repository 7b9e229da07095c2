"""Reading whole messages off a stream: limits before memory, exact lengths, short reads."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from pqptest.wire import pack_wire_header

from pqparsec.protocol.framing import RawRequest, read_request, read_response
from pqparsec.protocol.status import ParsecError, ResponseStatus

S = ResponseStatus


def read(chunks: list[bytes], eof: bool = True, limit: int = 1024,
         wait: float = 1.0) -> RawRequest:
    a, b = socket.socketpair()
    with a, b:
        for c in chunks:
            a.sendall(c)
        if eof:
            a.shutdown(socket.SHUT_WR)
        return read_request(b, limit, wait)


def status_of(chunks: list[bytes], eof: bool = True, limit: int = 1024) -> ResponseStatus:
    with pytest.raises(ParsecError) as e:
        read(chunks, eof, limit)
    return e.value.status


def test_reads_header_body_and_auth_exactly() -> None:
    data = pack_wire_header(opcode=1, body_len=3, auth_len=2) + b"abc" + b"xy" + b"TRAILING"
    req = read([data])
    assert req.body == b"abc" and req.auth == b"xy"
    assert req.header.body_len == 3 and req.header.auth_len == 2 and req.header.opcode == 1


def test_reads_byte_by_byte() -> None:
    data = pack_wire_header(opcode=1, body_len=4, auth_len=1) + b"body" + b"a"
    req = read([bytes([b]) for b in data])
    assert (req.body, req.auth) == (b"body", b"a")


def test_body_exactly_at_limit_is_read() -> None:
    req = read([pack_wire_header(opcode=1, body_len=16) + b"\0" * 16], limit=16)
    assert len(req.body) == 16


def test_body_over_limit_is_refused_before_the_body_is_read() -> None:
    # No body bytes and no EOF: if the reader waited for the body it would time out instead.
    assert status_of([pack_wire_header(opcode=1, body_len=17)], eof=False, limit=16) == \
        S.BODY_SIZE_EXCEEDS_LIMIT
    assert status_of([pack_wire_header(opcode=1, body_len=0xFFFFFFFF)], eof=False) == \
        S.BODY_SIZE_EXCEEDS_LIMIT


def test_auth_length_is_not_limited_by_body_len_limit() -> None:
    req = read([pack_wire_header(opcode=1, auth_len=100) + b"a" * 100], limit=10)
    assert req.auth == b"a" * 100


@pytest.mark.parametrize("cut", [0, 3, 6, 20, 35])
def test_eof_inside_header(cut: int) -> None:
    assert status_of([pack_wire_header(opcode=1)[:cut]]) == S.CONNECTION_ERROR


def test_eof_inside_body() -> None:
    assert status_of([pack_wire_header(opcode=1, body_len=10) + b"12345"]) == S.CONNECTION_ERROR


def test_eof_inside_auth() -> None:
    assert status_of([pack_wire_header(opcode=1, body_len=1, auth_len=10) + b"b" + b"12"]) == \
        S.CONNECTION_ERROR


def test_bad_magic_is_refused_after_six_bytes() -> None:
    # only the preamble is available and no EOF: the magic check must not wait for more
    assert status_of([struct.pack("<IH", 0xDEADBEEF, 30)], eof=False) == S.INVALID_HEADER


@pytest.mark.parametrize("size", [0, 29, 31])
def test_header_size_read_then_refused(size: int) -> None:
    rest = pack_wire_header(opcode=1)[6:]
    rest = (rest + b"\0" * size)[:size]
    assert status_of([struct.pack("<IH", 0x5EC0A710, size) + rest], eof=False) == S.INVALID_HEADER


def test_header_size_bigger_than_data_waits_for_it() -> None:
    # the announced remainder is read before it is judged: a short one is a connection error
    assert status_of([struct.pack("<IH", 0x5EC0A710, 40) + b"\0" * 30]) == S.CONNECTION_ERROR


def test_version_and_reserved_checked_before_body_limit() -> None:
    assert status_of([pack_wire_header(version_maj=2, body_len=10**6)], eof=False, limit=10) == \
        S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED
    assert status_of([pack_wire_header(reserved2=1, body_len=10**6)], eof=False, limit=10) == \
        S.INVALID_HEADER


def test_typed_fields_are_not_checked_by_the_reader() -> None:
    # content type, opcode, provider... are checked once body and auth are in (check_fields)
    req = read([pack_wire_header(opcode=0xFFFF, provider=0xFF, content_type=9, auth_type=0xFF)])
    assert req.header.opcode == 0xFFFF and req.header.provider == 0xFF


# -- client side ----------------------------------------------------------------------------------

def test_read_response_exact_body() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(pack_wire_header(opcode=1, body_len=2) + b"\x08\x01")
        hdr, body = read_response(b)
        assert hdr.opcode == 1 and body == b"\x08\x01"


def test_read_response_too_large() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(pack_wire_header(opcode=1, body_len=100))
        with pytest.raises(ParsecError) as e:
            read_response(b, max_body=99)
        assert e.value.status == S.RESPONSE_TOO_LARGE


def test_read_response_truncated() -> None:
    a, b = socket.socketpair()
    with b:
        with a:
            a.sendall(pack_wire_header(opcode=1, body_len=500) + b"\x0a\x03")
        with pytest.raises(ParsecError) as e:
            read_response(b)
        assert e.value.status == S.CONNECTION_ERROR


# -- the request deadline ---------------------------------------------------------------------------

def test_whole_request_deadline() -> None:
    # The limit is on the whole request: a client that stalls mid-body gets TimeoutError.
    a, b = socket.socketpair()
    with a, b:
        data = pack_wire_header(opcode=1, body_len=10) + b"12345"
        a.sendall(data)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            read_request(b, 1024, 0.3)
        assert 0.25 < time.monotonic() - t0 < 2
