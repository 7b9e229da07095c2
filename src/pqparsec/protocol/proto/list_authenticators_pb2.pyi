from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuthenticatorInfo(_message.Message):
    __slots__ = ("description", "version_maj", "version_min", "version_rev", "id")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_MAJ_FIELD_NUMBER: _ClassVar[int]
    VERSION_MIN_FIELD_NUMBER: _ClassVar[int]
    VERSION_REV_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    description: str
    version_maj: int
    version_min: int
    version_rev: int
    id: int
    def __init__(self, description: _Optional[str] = ..., version_maj: _Optional[int] = ..., version_min: _Optional[int] = ..., version_rev: _Optional[int] = ..., id: _Optional[int] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Result(_message.Message):
    __slots__ = ("authenticators",)
    AUTHENTICATORS_FIELD_NUMBER: _ClassVar[int]
    authenticators: _containers.RepeatedCompositeFieldContainer[AuthenticatorInfo]
    def __init__(self, authenticators: _Optional[_Iterable[_Union[AuthenticatorInfo, _Mapping]]] = ...) -> None: ...
