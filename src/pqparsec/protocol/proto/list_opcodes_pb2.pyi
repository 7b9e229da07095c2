from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(_message.Message):
    __slots__ = ("provider_id", "include_extensions")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    provider_id: int
    include_extensions: bool
    def __init__(self, provider_id: _Optional[int] = ..., include_extensions: _Optional[bool] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("opcodes",)
    OPCODES_FIELD_NUMBER: _ClassVar[int]
    opcodes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, opcodes: _Optional[_Iterable[int]] = ...) -> None: ...
