"""Property tests of the body codec: for every operation, any valid request and any valid result
(hypothesis strategies in tests/fuzz/strategies.py: key attributes, algorithms, names, bytes,
integers over their protobuf ranges, one member per oneof) survive encode -> decode unchanged,
in both directions (the client encodes requests and decodes results; the service the reverse),
encode canonically, and ignore fields they do not know, as protobuf readers must.

PQPARSEC_CODEC_EXAMPLES sets the examples per operation and direction (default 25)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from fuzz.strategies import key_attributes, requests, results
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.psa import convert as cv
from pqparsec.protocol.status import ParsecError, ResponseStatus

EXAMPLES = int(os.environ.get("PQPARSEC_CODEC_EXAMPLES", "") or 25)
SETTINGS = settings(database=None, deadline=None, max_examples=EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OPCODES = pytest.mark.parametrize("opcode", list(Opcode), ids=lambda o: o.name)

Codec = tuple[Callable[[Opcode, Any], bytes], Callable[[Opcode, bytes], Any]]
REQUESTS: Codec = (ops.encode_request, ops.decode_request)
RESULTS: Codec = (ops.encode_result, ops.decode_result)


def _unknown_field(number: int, value: bytes) -> bytes:
    """A length-delimited field (wire type 2) of a field number no message uses."""
    tag = number << 3 | 2
    out = bytearray()
    for n in (tag, len(value)):
        while n > 0x7F:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out) + value


def _round_trip(opcode: Opcode, value: Any, codec: Codec, pb: type) -> None:
    encode, decode = codec
    body = encode(opcode, value)
    assert decode(opcode, body) == value
    # canonical: the decoded value encodes to the same bytes
    assert encode(opcode, decode(opcode, body)) == body
    # the bytes are the operation's protobuf message: protobuf itself re-serializes them to a body
    # that decodes the same
    msg = pb()
    msg.ParseFromString(body)
    assert decode(opcode, msg.SerializeToString()) == value
    # a field from a later version of the protocol is skipped
    assert decode(opcode, body + _unknown_field(999, b"later")) == value


@OPCODES
def test_every_request_round_trips(opcode: Opcode) -> None:
    @SETTINGS
    @given(requests(opcode))
    def check(request: Any) -> None:
        assert isinstance(request, ops.OPERATIONS[opcode].request)
        _round_trip(opcode, request, REQUESTS, ops.OPERATIONS[opcode].operation_pb)

    check()


@OPCODES
def test_every_result_round_trips(opcode: Opcode) -> None:
    @SETTINGS
    @given(results(opcode))
    def check(result: Any) -> None:
        assert isinstance(result, ops.OPERATIONS[opcode].result)
        _round_trip(opcode, result, RESULTS, ops.OPERATIONS[opcode].result_pb)

    check()


@SETTINGS
@given(key_attributes())
def test_key_attributes_round_trip_through_the_key_store_encoding(attrs: KeyAttributes) -> None:
    """The key store keeps attributes as deterministic protobuf bytes."""
    data = cv.attributes_to_bytes(attrs)
    assert cv.attributes_from_bytes(data) == attrs
    assert cv.attributes_to_bytes(cv.attributes_from_bytes(data)) == data


@SETTINGS
@given(st.data())
def test_a_request_is_not_its_neighbours_result(data: st.DataObject) -> None:
    """Decoding is by opcode: a body decodes only as what its opcode says, so the same bytes
    sent under another opcode either fail or give that opcode's type (never a crash)."""
    opcode = data.draw(st.sampled_from(list(Opcode)))
    other = data.draw(st.sampled_from(list(Opcode)))
    body = ops.encode_request(opcode, data.draw(requests(opcode)))
    try:
        value = ops.decode_request(other, body)
    except ParsecError as exc:
        assert exc.status in (ResponseStatus.DESERIALIZING_BODY_FAILED,
                              ResponseStatus.INVALID_ENCODING)
    else:
        assert isinstance(value, ops.OPERATIONS[other].request)
