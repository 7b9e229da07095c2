"""The Certify extension of AttestKey (oneof member 100) leaves Parsec's encoding alone: a request
or result without it is byte for byte what Parsec's own attest_key.proto gives, and a Parsec
decoder skips the extension (it sees no mechanism)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode

# parsec-operations' protobuf/attest_key.proto, as Parsec defines it (no extension).
PARSEC_ATTEST_KEY = """
syntax = "proto3";
package attest_key;
message AttestationMechanismParams {
  message ActivateCredential {
    bytes credential_blob = 1;
    bytes secret = 2;
  }
  oneof mechanism {
    ActivateCredential activate_credential = 1;
  }
}
message Operation {
  string attested_key_name = 1;
  AttestationMechanismParams parameters = 2;
  string attesting_key_name = 3;
}
message AttestationOutput {
  message ActivateCredential {
    bytes credential = 1;
  }
  oneof mechanism {
    ActivateCredential activate_credential = 1;
  }
}
message Result {
  AttestationOutput output = 1;
}
"""


@pytest.fixture(scope="module")
def parsec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Parsec's messages, compiled in a pool of their own (ours hold the same names)."""
    from grpc_tools import protoc
    tmp = tmp_path_factory.mktemp("parsec-proto")
    (tmp / "attest_key.proto").write_text(PARSEC_ATTEST_KEY)
    out = tmp / "set.pb"
    assert protoc.main(["protoc", f"-I{tmp}", f"--descriptor_set_out={out}",
                        str(tmp / "attest_key.proto")]) == 0
    fds = descriptor_pb2.FileDescriptorSet.FromString(Path(out).read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"attest_key.{name}"))
            for name in ("Operation", "Result")}


def test_request_without_the_extension_is_parsecs(parsec: dict[str, Any]) -> None:
    request = ops.AttestKeyRequest("attested", ops.AttestationMechanismParams(
        ops.ActivateCredentialParams(b"blob", b"secret")), "attesting")
    msg = parsec["Operation"](attested_key_name="attested", attesting_key_name="attesting")
    msg.parameters.activate_credential.credential_blob = b"blob"
    msg.parameters.activate_credential.secret = b"secret"
    expected = msg.SerializeToString()
    assert ops.encode_request(Opcode.ATTEST_KEY, request) == expected
    assert expected == (b"\x0a\x08attested\x12\x10\x0a\x0e\x0a\x04blob\x12\x06secret"
                        b"\x1a\x09attesting")
    assert ops.decode_request(Opcode.ATTEST_KEY, expected) == request


def test_result_without_the_extension_is_parsecs(parsec: dict[str, Any]) -> None:
    result = ops.AttestKeyResult(ops.AttestationOutput(ops.ActivateCredentialOutput(b"cred")))
    msg = parsec["Result"]()
    msg.output.activate_credential.credential = b"cred"
    assert ops.encode_result(Opcode.ATTEST_KEY, result) == msg.SerializeToString()


def test_certify_is_member_100_and_invisible_to_parsec(parsec: dict[str, Any]) -> None:
    request = ops.AttestKeyRequest("k", ops.AttestationMechanismParams(
        certify=ops.CertifyParams(b"\x01\x02")))
    body = ops.encode_request(Opcode.ATTEST_KEY, request)
    # parameters (field 2) holds field 100 (tag 0x3a2 = 100 << 3 | 2) with nonce (field 1).
    assert body == b"\x0a\x01k\x12\x07\xa2\x06\x04\x0a\x02\x01\x02"
    assert ops.decode_request(Opcode.ATTEST_KEY, body) == request
    seen_by_parsec = parsec["Operation"].FromString(body)
    assert seen_by_parsec.parameters.WhichOneof("mechanism") is None  # Parsec: no mechanism
    # An empty nonce still sends the (empty) member, so the mechanism is never lost.
    empty = ops.encode_request(Opcode.ATTEST_KEY, ops.AttestKeyRequest(
        "k", ops.AttestationMechanismParams(certify=ops.CertifyParams())))
    assert empty == b"\x0a\x01k\x12\x03\xa2\x06\x00"

    out = ops.CertifyOutput(b"attest", b"sig", b"pub", b"akpub")
    result = ops.AttestKeyResult(ops.AttestationOutput(certify=out))
    encoded = ops.encode_result(Opcode.ATTEST_KEY, result)
    assert ops.decode_result(Opcode.ATTEST_KEY, encoded) == result
    assert parsec["Result"].FromString(encoded).output.WhichOneof("mechanism") is None
