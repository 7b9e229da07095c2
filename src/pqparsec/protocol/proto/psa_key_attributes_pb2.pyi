from pqparsec.protocol.proto import psa_algorithm_pb2 as _psa_algorithm_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyAttributes(_message.Message):
    __slots__ = ("key_type", "key_bits", "key_policy")
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_BITS_FIELD_NUMBER: _ClassVar[int]
    KEY_POLICY_FIELD_NUMBER: _ClassVar[int]
    key_type: KeyType
    key_bits: int
    key_policy: KeyPolicy
    def __init__(self, key_type: _Optional[_Union[KeyType, _Mapping]] = ..., key_bits: _Optional[int] = ..., key_policy: _Optional[_Union[KeyPolicy, _Mapping]] = ...) -> None: ...

class KeyType(_message.Message):
    __slots__ = ("raw_data", "hmac", "derive", "aes", "des", "camellia", "arc4", "chacha20", "rsa_public_key", "rsa_key_pair", "ecc_key_pair", "ecc_public_key", "dh_key_pair", "dh_public_key")
    class EccFamily(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ECC_FAMILY_NONE: _ClassVar[KeyType.EccFamily]
        SECP_K1: _ClassVar[KeyType.EccFamily]
        SECP_R1: _ClassVar[KeyType.EccFamily]
        SECP_R2: _ClassVar[KeyType.EccFamily]
        SECT_K1: _ClassVar[KeyType.EccFamily]
        SECT_R1: _ClassVar[KeyType.EccFamily]
        SECT_R2: _ClassVar[KeyType.EccFamily]
        BRAINPOOL_P_R1: _ClassVar[KeyType.EccFamily]
        FRP: _ClassVar[KeyType.EccFamily]
        MONTGOMERY: _ClassVar[KeyType.EccFamily]
    ECC_FAMILY_NONE: KeyType.EccFamily
    SECP_K1: KeyType.EccFamily
    SECP_R1: KeyType.EccFamily
    SECP_R2: KeyType.EccFamily
    SECT_K1: KeyType.EccFamily
    SECT_R1: KeyType.EccFamily
    SECT_R2: KeyType.EccFamily
    BRAINPOOL_P_R1: KeyType.EccFamily
    FRP: KeyType.EccFamily
    MONTGOMERY: KeyType.EccFamily
    class DhFamily(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RFC7919: _ClassVar[KeyType.DhFamily]
    RFC7919: KeyType.DhFamily
    class RawData(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Hmac(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Derive(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Aes(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Des(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Camellia(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Arc4(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Chacha20(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class RsaPublicKey(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class RsaKeyPair(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class EccKeyPair(_message.Message):
        __slots__ = ("curve_family",)
        CURVE_FAMILY_FIELD_NUMBER: _ClassVar[int]
        curve_family: KeyType.EccFamily
        def __init__(self, curve_family: _Optional[_Union[KeyType.EccFamily, str]] = ...) -> None: ...
    class EccPublicKey(_message.Message):
        __slots__ = ("curve_family",)
        CURVE_FAMILY_FIELD_NUMBER: _ClassVar[int]
        curve_family: KeyType.EccFamily
        def __init__(self, curve_family: _Optional[_Union[KeyType.EccFamily, str]] = ...) -> None: ...
    class DhKeyPair(_message.Message):
        __slots__ = ("group_family",)
        GROUP_FAMILY_FIELD_NUMBER: _ClassVar[int]
        group_family: KeyType.DhFamily
        def __init__(self, group_family: _Optional[_Union[KeyType.DhFamily, str]] = ...) -> None: ...
    class DhPublicKey(_message.Message):
        __slots__ = ("group_family",)
        GROUP_FAMILY_FIELD_NUMBER: _ClassVar[int]
        group_family: KeyType.DhFamily
        def __init__(self, group_family: _Optional[_Union[KeyType.DhFamily, str]] = ...) -> None: ...
    RAW_DATA_FIELD_NUMBER: _ClassVar[int]
    HMAC_FIELD_NUMBER: _ClassVar[int]
    DERIVE_FIELD_NUMBER: _ClassVar[int]
    AES_FIELD_NUMBER: _ClassVar[int]
    DES_FIELD_NUMBER: _ClassVar[int]
    CAMELLIA_FIELD_NUMBER: _ClassVar[int]
    ARC4_FIELD_NUMBER: _ClassVar[int]
    CHACHA20_FIELD_NUMBER: _ClassVar[int]
    RSA_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    RSA_KEY_PAIR_FIELD_NUMBER: _ClassVar[int]
    ECC_KEY_PAIR_FIELD_NUMBER: _ClassVar[int]
    ECC_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    DH_KEY_PAIR_FIELD_NUMBER: _ClassVar[int]
    DH_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    raw_data: KeyType.RawData
    hmac: KeyType.Hmac
    derive: KeyType.Derive
    aes: KeyType.Aes
    des: KeyType.Des
    camellia: KeyType.Camellia
    arc4: KeyType.Arc4
    chacha20: KeyType.Chacha20
    rsa_public_key: KeyType.RsaPublicKey
    rsa_key_pair: KeyType.RsaKeyPair
    ecc_key_pair: KeyType.EccKeyPair
    ecc_public_key: KeyType.EccPublicKey
    dh_key_pair: KeyType.DhKeyPair
    dh_public_key: KeyType.DhPublicKey
    def __init__(self, raw_data: _Optional[_Union[KeyType.RawData, _Mapping]] = ..., hmac: _Optional[_Union[KeyType.Hmac, _Mapping]] = ..., derive: _Optional[_Union[KeyType.Derive, _Mapping]] = ..., aes: _Optional[_Union[KeyType.Aes, _Mapping]] = ..., des: _Optional[_Union[KeyType.Des, _Mapping]] = ..., camellia: _Optional[_Union[KeyType.Camellia, _Mapping]] = ..., arc4: _Optional[_Union[KeyType.Arc4, _Mapping]] = ..., chacha20: _Optional[_Union[KeyType.Chacha20, _Mapping]] = ..., rsa_public_key: _Optional[_Union[KeyType.RsaPublicKey, _Mapping]] = ..., rsa_key_pair: _Optional[_Union[KeyType.RsaKeyPair, _Mapping]] = ..., ecc_key_pair: _Optional[_Union[KeyType.EccKeyPair, _Mapping]] = ..., ecc_public_key: _Optional[_Union[KeyType.EccPublicKey, _Mapping]] = ..., dh_key_pair: _Optional[_Union[KeyType.DhKeyPair, _Mapping]] = ..., dh_public_key: _Optional[_Union[KeyType.DhPublicKey, _Mapping]] = ...) -> None: ...

class KeyPolicy(_message.Message):
    __slots__ = ("key_usage_flags", "key_algorithm")
    KEY_USAGE_FLAGS_FIELD_NUMBER: _ClassVar[int]
    KEY_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    key_usage_flags: UsageFlags
    key_algorithm: _psa_algorithm_pb2.Algorithm
    def __init__(self, key_usage_flags: _Optional[_Union[UsageFlags, _Mapping]] = ..., key_algorithm: _Optional[_Union[_psa_algorithm_pb2.Algorithm, _Mapping]] = ...) -> None: ...

class UsageFlags(_message.Message):
    __slots__ = ("export", "copy", "cache", "encrypt", "decrypt", "sign_message", "verify_message", "sign_hash", "verify_hash", "derive")
    EXPORT_FIELD_NUMBER: _ClassVar[int]
    COPY_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    ENCRYPT_FIELD_NUMBER: _ClassVar[int]
    DECRYPT_FIELD_NUMBER: _ClassVar[int]
    SIGN_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERIFY_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SIGN_HASH_FIELD_NUMBER: _ClassVar[int]
    VERIFY_HASH_FIELD_NUMBER: _ClassVar[int]
    DERIVE_FIELD_NUMBER: _ClassVar[int]
    export: bool
    copy: bool
    cache: bool
    encrypt: bool
    decrypt: bool
    sign_message: bool
    verify_message: bool
    sign_hash: bool
    verify_hash: bool
    derive: bool
    def __init__(self, export: _Optional[bool] = ..., copy: _Optional[bool] = ..., cache: _Optional[bool] = ..., encrypt: _Optional[bool] = ..., decrypt: _Optional[bool] = ..., sign_message: _Optional[bool] = ..., verify_message: _Optional[bool] = ..., sign_hash: _Optional[bool] = ..., verify_hash: _Optional[bool] = ..., derive: _Optional[bool] = ...) -> None: ...
