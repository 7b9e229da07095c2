"""The fixed 36-byte Parsec header: a 6-byte preamble and a 30-byte remainder, little-endian.

Parsing follows the Rust service's order so that a bad request gets the same status from both:
the preamble and the constant fields first (`parse_preamble`, `parse_remainder`), then, once body
and auth have been read, the typed fields (`RawHeader.check_fields`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode, lookup
from pqparsec.protocol.status import ParsecError, ResponseStatus

MAGIC = 0x5EC0A710
HEADER_SIZE = 30  # the value of the header-size field: bytes after the preamble
PREAMBLE_LEN = 6
HEADER_LEN = PREAMBLE_LEN + HEADER_SIZE
VERSION = (1, 0)
CONTENT_TYPE_PROTOBUF = 0

_PREAMBLE = struct.Struct("<IH")
# maj, min, flags, provider, session, content type, accept type, auth type, body len, auth len,
# opcode, status, reserved1, reserved2
_REMAINDER = struct.Struct("<BBHBQBBBIHIHBB")
assert _REMAINDER.size == HEADER_SIZE
# A whole header in one format, for responses (built on every request's path).
_HEADER = struct.Struct("<IH" + _REMAINDER.format.lstrip("<"))


@dataclass(frozen=True)
class RawHeader:
    """Header fields as they were on the wire, before the typed checks."""

    version_maj: int = 1
    version_min: int = 0
    flags: int = 0
    provider: int = 0
    session: int = 0
    content_type: int = 0
    accept_type: int = 0
    auth_type: int = 0
    body_len: int = 0
    auth_len: int = 0
    opcode: int = 0
    status: int = 0
    reserved1: int = 0
    reserved2: int = 0

    def pack(self) -> bytes:
        return _PREAMBLE.pack(MAGIC, HEADER_SIZE) + _REMAINDER.pack(
            self.version_maj, self.version_min, self.flags, self.provider, self.session,
            self.content_type, self.accept_type, self.auth_type, self.body_len, self.auth_len,
            self.opcode, self.status, self.reserved1, self.reserved2)

    def check_fields(self) -> RequestHeader:
        """Typed checks of a request header, in the Rust service's order."""
        if self.content_type != CONTENT_TYPE_PROTOBUF:
            raise ParsecError(ResponseStatus.CONTENT_TYPE_NOT_SUPPORTED,
                              f"content type {self.content_type} (only 0, protobuf)")
        if self.accept_type != CONTENT_TYPE_PROTOBUF:
            raise ParsecError(ResponseStatus.ACCEPT_TYPE_NOT_SUPPORTED,
                              f"accept type {self.accept_type} (only 0, protobuf)")
        try:
            auth_type = AuthType(self.auth_type)
        except ValueError:
            raise ParsecError(ResponseStatus.AUTHENTICATOR_DOES_NOT_EXIST,
                              f"authentication type {self.auth_type} does not exist") from None
        opcode = lookup(self.opcode)
        if opcode is None:
            raise ParsecError(ResponseStatus.OPCODE_DOES_NOT_EXIST,
                              f"opcode {self.opcode:#x} does not exist")
        try:
            provider = ProviderId(self.provider)
        except ValueError:
            raise ParsecError(ResponseStatus.PROVIDER_DOES_NOT_EXIST,
                              f"provider id {self.provider} does not exist") from None
        return RequestHeader(provider=provider, session=self.session, auth_type=auth_type,
                             opcode=opcode, body_len=self.body_len, auth_len=self.auth_len)


@dataclass(frozen=True)
class RequestHeader:
    provider: ProviderId
    session: int
    auth_type: AuthType
    opcode: Opcode
    body_len: int
    auth_len: int

    def response(self, status: ResponseStatus, body_len: int = 0) -> bytes:
        """The header of the response to this request: echoes provider, session and opcode
        (as RawHeader(provider=..., session=..., opcode=..., body_len=..., status=...).pack(),
        in one struct call)."""
        return _HEADER.pack(MAGIC, HEADER_SIZE, VERSION[0], VERSION[1], 0, self.provider,
                            self.session, 0, 0, 0, body_len, 0, self.opcode, status, 0, 0)


def error_response(status: ResponseStatus) -> bytes:
    """A whole response for a failure before the header could be trusted (Parsec's
    Response::from_status): provider 0, session 0, opcode Ping, empty body."""
    return RawHeader(opcode=Opcode.PING, status=status).pack()


def parse_preamble(data: bytes) -> int:
    """Check the magic number and return the announced size of the remainder."""
    magic, size = _PREAMBLE.unpack(data)
    if magic != MAGIC:
        raise ParsecError(ResponseStatus.INVALID_HEADER, f"bad magic number {magic:#x}")
    return int(size)


def check_header_size(size: int) -> None:
    if size != HEADER_SIZE:
        raise ParsecError(ResponseStatus.INVALID_HEADER,
                          f"header size {size}, expected {HEADER_SIZE}")


def parse_remainder(data: bytes) -> RawHeader:
    hdr = RawHeader(*_REMAINDER.unpack(data))
    if (hdr.version_maj, hdr.version_min) != VERSION:
        raise ParsecError(ResponseStatus.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED,
                          f"wire protocol version {hdr.version_maj}.{hdr.version_min} (only 1.0)")
    if hdr.reserved1 or hdr.reserved2:
        raise ParsecError(ResponseStatus.INVALID_HEADER, "reserved header bytes are not zero")
    return hdr


def unpack_response(data: bytes) -> RawHeader:
    """Parse a response header (client side): preamble, size and version checked."""
    if len(data) < HEADER_LEN:
        raise ParsecError(ResponseStatus.INVALID_HEADER, f"short header: {len(data)} bytes")
    check_header_size(parse_preamble(data[:PREAMBLE_LEN]))
    return parse_remainder(data[PREAMBLE_LEN:HEADER_LEN])


def request_header(opcode: int, provider: int, body_len: int, auth_type: int, auth_len: int,
                   session: int = 0) -> bytes:
    return RawHeader(provider=provider, session=session, auth_type=auth_type, body_len=body_len,
                     auth_len=auth_len, opcode=opcode).pack()


__all__ = ["HEADER_LEN", "HEADER_SIZE", "MAGIC", "PREAMBLE_LEN", "RawHeader", "RequestHeader",
           "check_header_size", "error_response", "parse_preamble", "parse_remainder",
           "request_header", "unpack_response"]
