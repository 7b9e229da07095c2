from pqparsec.protocol.proto import psa_key_attributes_pb2 as _psa_key_attributes_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyInfo(_message.Message):
    __slots__ = ("provider_id", "name", "attributes")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    provider_id: int
    name: str
    attributes: _psa_key_attributes_pb2.KeyAttributes
    def __init__(self, provider_id: _Optional[int] = ..., name: _Optional[str] = ..., attributes: _Optional[_Union[_psa_key_attributes_pb2.KeyAttributes, _Mapping]] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("include_extensions",)
    INCLUDE_EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    include_extensions: bool
    def __init__(self, include_extensions: _Optional[bool] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[KeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[KeyInfo, _Mapping]]] = ...) -> None: ...
