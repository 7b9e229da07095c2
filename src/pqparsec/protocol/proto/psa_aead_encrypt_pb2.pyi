from pqparsec.protocol.proto import psa_algorithm_pb2 as _psa_algorithm_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(_message.Message):
    __slots__ = ("key_name", "alg", "nonce", "additional_data", "plaintext")
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    ALG_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_DATA_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_FIELD_NUMBER: _ClassVar[int]
    key_name: str
    alg: _psa_algorithm_pb2.Algorithm.Aead
    nonce: bytes
    additional_data: bytes
    plaintext: bytes
    def __init__(self, key_name: _Optional[str] = ..., alg: _Optional[_Union[_psa_algorithm_pb2.Algorithm.Aead, _Mapping]] = ..., nonce: _Optional[bytes] = ..., additional_data: _Optional[bytes] = ..., plaintext: _Optional[bytes] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("ciphertext",)
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    ciphertext: bytes
    def __init__(self, ciphertext: _Optional[bytes] = ...) -> None: ...
