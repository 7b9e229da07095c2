from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PrepareKeyAttestationParams(_message.Message):
    __slots__ = ("activate_credential",)
    class ActivateCredential(_message.Message):
        __slots__ = ("attested_key_name", "attesting_key_name")
        ATTESTED_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
        ATTESTING_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
        attested_key_name: str
        attesting_key_name: str
        def __init__(self, attested_key_name: _Optional[str] = ..., attesting_key_name: _Optional[str] = ...) -> None: ...
    ACTIVATE_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    activate_credential: PrepareKeyAttestationParams.ActivateCredential
    def __init__(self, activate_credential: _Optional[_Union[PrepareKeyAttestationParams.ActivateCredential, _Mapping]] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("parameters",)
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    parameters: PrepareKeyAttestationParams
    def __init__(self, parameters: _Optional[_Union[PrepareKeyAttestationParams, _Mapping]] = ...) -> None: ...

class PrepareKeyAttestationOutput(_message.Message):
    __slots__ = ("activate_credential",)
    class ActivateCredential(_message.Message):
        __slots__ = ("name", "public", "attesting_key_pub")
        NAME_FIELD_NUMBER: _ClassVar[int]
        PUBLIC_FIELD_NUMBER: _ClassVar[int]
        ATTESTING_KEY_PUB_FIELD_NUMBER: _ClassVar[int]
        name: bytes
        public: bytes
        attesting_key_pub: bytes
        def __init__(self, name: _Optional[bytes] = ..., public: _Optional[bytes] = ..., attesting_key_pub: _Optional[bytes] = ...) -> None: ...
    ACTIVATE_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    activate_credential: PrepareKeyAttestationOutput.ActivateCredential
    def __init__(self, activate_credential: _Optional[_Union[PrepareKeyAttestationOutput.ActivateCredential, _Mapping]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("output",)
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    output: PrepareKeyAttestationOutput
    def __init__(self, output: _Optional[_Union[PrepareKeyAttestationOutput, _Mapping]] = ...) -> None: ...
