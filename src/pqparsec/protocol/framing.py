"""Reading whole messages off a stream, with the limits checked before memory is committed.

`read_request` (asyncio, service side) raises ParsecError with the status the Rust service gives
at each step; the caller answers those with a header-level error response. `read_response`
(blocking socket, client side) reads a header and exactly its body.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from pqparsec.protocol.header import (
    HEADER_LEN,
    PREAMBLE_LEN,
    RawHeader,
    check_header_size,
    parse_preamble,
    parse_remainder,
    unpack_response,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus


@dataclass(frozen=True)
class RawRequest:
    header: RawHeader
    body: bytes
    auth: bytes


async def _read_exactly(reader: asyncio.StreamReader, n: int, what: str) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                          f"connection closed after {len(exc.partial)} of {n} {what} bytes") from None
    except OSError as exc:
        raise ParsecError(ResponseStatus.CONNECTION_ERROR, f"reading {what}: {exc}") from None


async def read_request(reader: asyncio.StreamReader, body_len_limit: int) -> RawRequest:
    """Read one request. Timeouts are the caller's (asyncio.timeout around this call)."""
    size = parse_preamble(await _read_exactly(reader, PREAMBLE_LEN, "header"))
    remainder = await _read_exactly(reader, size, "header")
    check_header_size(size)
    header = parse_remainder(remainder)
    if header.body_len > body_len_limit:
        raise ParsecError(ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT,
                          f"body of {header.body_len} bytes exceeds the {body_len_limit}-byte limit")
    body = await _read_exactly(reader, header.body_len, "body")
    auth = await _read_exactly(reader, header.auth_len, "auth")
    return RawRequest(header, body, auth)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(min(n - len(chunks), 1 << 16))
        if not chunk:
            raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                              f"service closed the connection after {len(chunks)} of {n} bytes")
        chunks += chunk
    return bytes(chunks)


def read_response(sock: socket.socket, max_body: int | None = None) -> tuple[RawHeader, bytes]:
    header = unpack_response(_recv_exactly(sock, HEADER_LEN))
    if max_body is not None and header.body_len > max_body:
        raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                          f"response body of {header.body_len} bytes exceeds {max_body}")
    return header, _recv_exactly(sock, header.body_len)
