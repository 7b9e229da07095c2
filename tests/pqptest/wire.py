"""Raw-wire helpers for the service-core tests. They pack and parse the 36-byte header with their
own struct (not pqparsec.protocol), so a bug in the codec under test cannot hide in the test."""

from __future__ import annotations

import socket
import struct
import time

WIRE_MAGIC = 0x5EC0A710
WIRE_HEADER_LEN = 36
WIRE_FIELDS = ("magic", "header_size", "version_maj", "version_min", "flags", "provider", "session",
               "content_type", "accept_type", "auth_type", "body_len", "auth_len", "opcode", "status",
               "reserved1", "reserved2")
_WIRE = struct.Struct("<IHBBHBQBBBIHIHBB")
assert _WIRE.size == WIRE_HEADER_LEN


def pack_wire_header(**fields: int) -> bytes:
    """A 36-byte header; every field defaults to the valid value (magic, 30, 1.0, zeros)."""
    unknown = set(fields) - set(WIRE_FIELDS)
    if unknown:
        raise TypeError(f"unknown header fields {sorted(unknown)}")
    values = {name: 0 for name in WIRE_FIELDS}
    values.update(magic=WIRE_MAGIC, header_size=30, version_maj=1, version_min=0)
    values.update(fields)
    return _WIRE.pack(*(values[name] for name in WIRE_FIELDS))


def unpack_wire_header(data: bytes) -> dict[str, int]:
    return dict(zip(WIRE_FIELDS, _WIRE.unpack(data[:WIRE_HEADER_LEN]), strict=True))


def wire_request(opcode: int, body: bytes = b"", auth: bytes = b"", auth_type: int = 0,
                 provider: int = 0, session: int = 0, **over: int) -> bytes:
    """A whole request; body_len and auth_len follow the data unless overridden."""
    fields = dict(opcode=opcode, provider=provider, session=session, auth_type=auth_type,
                  body_len=len(body), auth_len=len(auth))
    fields.update(over)
    return pack_wire_header(**fields) + body + auth


class RawReply:
    """What came back on one connection: the parsed header (None if the service closed without
    answering), the body, the raw bytes and the time from the last byte sent to EOF."""

    def __init__(self, data: bytes, elapsed: float) -> None:
        self.data = data
        self.elapsed = elapsed
        self.header: dict[str, int] | None = (
            unpack_wire_header(data) if len(data) >= WIRE_HEADER_LEN else None)
        self.body = data[WIRE_HEADER_LEN:]

    @property
    def status(self) -> int:
        assert self.header is not None, f"no response (got {self.data.hex()})"
        return self.header["status"]

    def __repr__(self) -> str:
        return f"RawReply(header={self.header}, body={self.body.hex()}, elapsed={self.elapsed:.2f})"


def send_raw(path: str, data: bytes, timeout: float = 10.0) -> RawReply:
    """Connect, send `data`, read until EOF (the service closes after one response)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        t0 = time.monotonic()
        return RawReply(read_until_eof(s), time.monotonic() - t0)


def read_until_eof(s: socket.socket) -> bytes:
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return buf
