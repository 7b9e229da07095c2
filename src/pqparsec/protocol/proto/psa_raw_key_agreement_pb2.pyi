from pqparsec.protocol.proto import psa_algorithm_pb2 as _psa_algorithm_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(_message.Message):
    __slots__ = ("alg", "private_key_name", "peer_key")
    ALG_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    PEER_KEY_FIELD_NUMBER: _ClassVar[int]
    alg: _psa_algorithm_pb2.Algorithm.KeyAgreement.Raw
    private_key_name: str
    peer_key: bytes
    def __init__(self, alg: _Optional[_Union[_psa_algorithm_pb2.Algorithm.KeyAgreement.Raw, str]] = ..., private_key_name: _Optional[str] = ..., peer_key: _Optional[bytes] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("shared_secret",)
    SHARED_SECRET_FIELD_NUMBER: _ClassVar[int]
    shared_secret: bytes
    def __init__(self, shared_secret: _Optional[bytes] = ...) -> None: ...
