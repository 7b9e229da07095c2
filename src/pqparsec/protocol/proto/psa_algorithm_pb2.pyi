from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Algorithm(_message.Message):
    __slots__ = ("none", "hash", "mac", "cipher", "aead", "asymmetric_signature", "asymmetric_encryption", "key_agreement", "key_derivation")
    class Hash(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        HASH_NONE: _ClassVar[Algorithm.Hash]
        MD2: _ClassVar[Algorithm.Hash]
        MD4: _ClassVar[Algorithm.Hash]
        MD5: _ClassVar[Algorithm.Hash]
        RIPEMD160: _ClassVar[Algorithm.Hash]
        SHA_1: _ClassVar[Algorithm.Hash]
        SHA_224: _ClassVar[Algorithm.Hash]
        SHA_256: _ClassVar[Algorithm.Hash]
        SHA_384: _ClassVar[Algorithm.Hash]
        SHA_512: _ClassVar[Algorithm.Hash]
        SHA_512_224: _ClassVar[Algorithm.Hash]
        SHA_512_256: _ClassVar[Algorithm.Hash]
        SHA3_224: _ClassVar[Algorithm.Hash]
        SHA3_256: _ClassVar[Algorithm.Hash]
        SHA3_384: _ClassVar[Algorithm.Hash]
        SHA3_512: _ClassVar[Algorithm.Hash]
    HASH_NONE: Algorithm.Hash
    MD2: Algorithm.Hash
    MD4: Algorithm.Hash
    MD5: Algorithm.Hash
    RIPEMD160: Algorithm.Hash
    SHA_1: Algorithm.Hash
    SHA_224: Algorithm.Hash
    SHA_256: Algorithm.Hash
    SHA_384: Algorithm.Hash
    SHA_512: Algorithm.Hash
    SHA_512_224: Algorithm.Hash
    SHA_512_256: Algorithm.Hash
    SHA3_224: Algorithm.Hash
    SHA3_256: Algorithm.Hash
    SHA3_384: Algorithm.Hash
    SHA3_512: Algorithm.Hash
    class Cipher(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CIPHER_NONE: _ClassVar[Algorithm.Cipher]
        STREAM_CIPHER: _ClassVar[Algorithm.Cipher]
        CTR: _ClassVar[Algorithm.Cipher]
        CFB: _ClassVar[Algorithm.Cipher]
        OFB: _ClassVar[Algorithm.Cipher]
        XTS: _ClassVar[Algorithm.Cipher]
        ECB_NO_PADDING: _ClassVar[Algorithm.Cipher]
        CBC_NO_PADDING: _ClassVar[Algorithm.Cipher]
        CBC_PKCS7: _ClassVar[Algorithm.Cipher]
    CIPHER_NONE: Algorithm.Cipher
    STREAM_CIPHER: Algorithm.Cipher
    CTR: Algorithm.Cipher
    CFB: Algorithm.Cipher
    OFB: Algorithm.Cipher
    XTS: Algorithm.Cipher
    ECB_NO_PADDING: Algorithm.Cipher
    CBC_NO_PADDING: Algorithm.Cipher
    CBC_PKCS7: Algorithm.Cipher
    class None(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Mac(_message.Message):
        __slots__ = ("full_length", "truncated")
        class FullLength(_message.Message):
            __slots__ = ("hmac", "cbc_mac", "cmac")
            class Hmac(_message.Message):
                __slots__ = ("hash_alg",)
                HASH_ALG_FIELD_NUMBER: _ClassVar[int]
                hash_alg: Algorithm.Hash
                def __init__(self, hash_alg: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
            class CbcMac(_message.Message):
                __slots__ = ()
                def __init__(self) -> None: ...
            class Cmac(_message.Message):
                __slots__ = ()
                def __init__(self) -> None: ...
            HMAC_FIELD_NUMBER: _ClassVar[int]
            CBC_MAC_FIELD_NUMBER: _ClassVar[int]
            CMAC_FIELD_NUMBER: _ClassVar[int]
            hmac: Algorithm.Mac.FullLength.Hmac
            cbc_mac: Algorithm.Mac.FullLength.CbcMac
            cmac: Algorithm.Mac.FullLength.Cmac
            def __init__(self, hmac: _Optional[_Union[Algorithm.Mac.FullLength.Hmac, _Mapping]] = ..., cbc_mac: _Optional[_Union[Algorithm.Mac.FullLength.CbcMac, _Mapping]] = ..., cmac: _Optional[_Union[Algorithm.Mac.FullLength.Cmac, _Mapping]] = ...) -> None: ...
        class Truncated(_message.Message):
            __slots__ = ("mac_alg", "mac_length")
            MAC_ALG_FIELD_NUMBER: _ClassVar[int]
            MAC_LENGTH_FIELD_NUMBER: _ClassVar[int]
            mac_alg: Algorithm.Mac.FullLength
            mac_length: int
            def __init__(self, mac_alg: _Optional[_Union[Algorithm.Mac.FullLength, _Mapping]] = ..., mac_length: _Optional[int] = ...) -> None: ...
        FULL_LENGTH_FIELD_NUMBER: _ClassVar[int]
        TRUNCATED_FIELD_NUMBER: _ClassVar[int]
        full_length: Algorithm.Mac.FullLength
        truncated: Algorithm.Mac.Truncated
        def __init__(self, full_length: _Optional[_Union[Algorithm.Mac.FullLength, _Mapping]] = ..., truncated: _Optional[_Union[Algorithm.Mac.Truncated, _Mapping]] = ...) -> None: ...
    class Aead(_message.Message):
        __slots__ = ("aead_with_default_length_tag", "aead_with_shortened_tag")
        class AeadWithDefaultLengthTag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            AEAD_WITH_DEFAULT_LENGTH_TAG_NONE: _ClassVar[Algorithm.Aead.AeadWithDefaultLengthTag]
            CCM: _ClassVar[Algorithm.Aead.AeadWithDefaultLengthTag]
            GCM: _ClassVar[Algorithm.Aead.AeadWithDefaultLengthTag]
            CHACHA20_POLY1305: _ClassVar[Algorithm.Aead.AeadWithDefaultLengthTag]
        AEAD_WITH_DEFAULT_LENGTH_TAG_NONE: Algorithm.Aead.AeadWithDefaultLengthTag
        CCM: Algorithm.Aead.AeadWithDefaultLengthTag
        GCM: Algorithm.Aead.AeadWithDefaultLengthTag
        CHACHA20_POLY1305: Algorithm.Aead.AeadWithDefaultLengthTag
        class AeadWithShortenedTag(_message.Message):
            __slots__ = ("aead_alg", "tag_length")
            AEAD_ALG_FIELD_NUMBER: _ClassVar[int]
            TAG_LENGTH_FIELD_NUMBER: _ClassVar[int]
            aead_alg: Algorithm.Aead.AeadWithDefaultLengthTag
            tag_length: int
            def __init__(self, aead_alg: _Optional[_Union[Algorithm.Aead.AeadWithDefaultLengthTag, str]] = ..., tag_length: _Optional[int] = ...) -> None: ...
        AEAD_WITH_DEFAULT_LENGTH_TAG_FIELD_NUMBER: _ClassVar[int]
        AEAD_WITH_SHORTENED_TAG_FIELD_NUMBER: _ClassVar[int]
        aead_with_default_length_tag: Algorithm.Aead.AeadWithDefaultLengthTag
        aead_with_shortened_tag: Algorithm.Aead.AeadWithShortenedTag
        def __init__(self, aead_with_default_length_tag: _Optional[_Union[Algorithm.Aead.AeadWithDefaultLengthTag, str]] = ..., aead_with_shortened_tag: _Optional[_Union[Algorithm.Aead.AeadWithShortenedTag, _Mapping]] = ...) -> None: ...
    class AsymmetricSignature(_message.Message):
        __slots__ = ("rsa_pkcs1v15_sign", "rsa_pkcs1v15_sign_raw", "rsa_pss", "ecdsa", "ecdsa_any", "deterministic_ecdsa")
        class SignHash(_message.Message):
            __slots__ = ("any", "specific")
            class Any(_message.Message):
                __slots__ = ()
                def __init__(self) -> None: ...
            ANY_FIELD_NUMBER: _ClassVar[int]
            SPECIFIC_FIELD_NUMBER: _ClassVar[int]
            any: Algorithm.AsymmetricSignature.SignHash.Any
            specific: Algorithm.Hash
            def __init__(self, any: _Optional[_Union[Algorithm.AsymmetricSignature.SignHash.Any, _Mapping]] = ..., specific: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
        class RsaPkcs1v15Sign(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.AsymmetricSignature.SignHash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.AsymmetricSignature.SignHash, _Mapping]] = ...) -> None: ...
        class RsaPkcs1v15SignRaw(_message.Message):
            __slots__ = ()
            def __init__(self) -> None: ...
        class RsaPss(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.AsymmetricSignature.SignHash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.AsymmetricSignature.SignHash, _Mapping]] = ...) -> None: ...
        class Ecdsa(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.AsymmetricSignature.SignHash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.AsymmetricSignature.SignHash, _Mapping]] = ...) -> None: ...
        class EcdsaAny(_message.Message):
            __slots__ = ()
            def __init__(self) -> None: ...
        class DeterministicEcdsa(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.AsymmetricSignature.SignHash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.AsymmetricSignature.SignHash, _Mapping]] = ...) -> None: ...
        RSA_PKCS1V15_SIGN_FIELD_NUMBER: _ClassVar[int]
        RSA_PKCS1V15_SIGN_RAW_FIELD_NUMBER: _ClassVar[int]
        RSA_PSS_FIELD_NUMBER: _ClassVar[int]
        ECDSA_FIELD_NUMBER: _ClassVar[int]
        ECDSA_ANY_FIELD_NUMBER: _ClassVar[int]
        DETERMINISTIC_ECDSA_FIELD_NUMBER: _ClassVar[int]
        rsa_pkcs1v15_sign: Algorithm.AsymmetricSignature.RsaPkcs1v15Sign
        rsa_pkcs1v15_sign_raw: Algorithm.AsymmetricSignature.RsaPkcs1v15SignRaw
        rsa_pss: Algorithm.AsymmetricSignature.RsaPss
        ecdsa: Algorithm.AsymmetricSignature.Ecdsa
        ecdsa_any: Algorithm.AsymmetricSignature.EcdsaAny
        deterministic_ecdsa: Algorithm.AsymmetricSignature.DeterministicEcdsa
        def __init__(self, rsa_pkcs1v15_sign: _Optional[_Union[Algorithm.AsymmetricSignature.RsaPkcs1v15Sign, _Mapping]] = ..., rsa_pkcs1v15_sign_raw: _Optional[_Union[Algorithm.AsymmetricSignature.RsaPkcs1v15SignRaw, _Mapping]] = ..., rsa_pss: _Optional[_Union[Algorithm.AsymmetricSignature.RsaPss, _Mapping]] = ..., ecdsa: _Optional[_Union[Algorithm.AsymmetricSignature.Ecdsa, _Mapping]] = ..., ecdsa_any: _Optional[_Union[Algorithm.AsymmetricSignature.EcdsaAny, _Mapping]] = ..., deterministic_ecdsa: _Optional[_Union[Algorithm.AsymmetricSignature.DeterministicEcdsa, _Mapping]] = ...) -> None: ...
    class AsymmetricEncryption(_message.Message):
        __slots__ = ("rsa_pkcs1v15_crypt", "rsa_oaep")
        class RsaPkcs1v15Crypt(_message.Message):
            __slots__ = ()
            def __init__(self) -> None: ...
        class RsaOaep(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.Hash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
        RSA_PKCS1V15_CRYPT_FIELD_NUMBER: _ClassVar[int]
        RSA_OAEP_FIELD_NUMBER: _ClassVar[int]
        rsa_pkcs1v15_crypt: Algorithm.AsymmetricEncryption.RsaPkcs1v15Crypt
        rsa_oaep: Algorithm.AsymmetricEncryption.RsaOaep
        def __init__(self, rsa_pkcs1v15_crypt: _Optional[_Union[Algorithm.AsymmetricEncryption.RsaPkcs1v15Crypt, _Mapping]] = ..., rsa_oaep: _Optional[_Union[Algorithm.AsymmetricEncryption.RsaOaep, _Mapping]] = ...) -> None: ...
    class KeyAgreement(_message.Message):
        __slots__ = ("raw", "with_key_derivation")
        class Raw(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            RAW_NONE: _ClassVar[Algorithm.KeyAgreement.Raw]
            FFDH: _ClassVar[Algorithm.KeyAgreement.Raw]
            ECDH: _ClassVar[Algorithm.KeyAgreement.Raw]
        RAW_NONE: Algorithm.KeyAgreement.Raw
        FFDH: Algorithm.KeyAgreement.Raw
        ECDH: Algorithm.KeyAgreement.Raw
        class WithKeyDerivation(_message.Message):
            __slots__ = ("ka_alg", "kdf_alg")
            KA_ALG_FIELD_NUMBER: _ClassVar[int]
            KDF_ALG_FIELD_NUMBER: _ClassVar[int]
            ka_alg: Algorithm.KeyAgreement.Raw
            kdf_alg: Algorithm.KeyDerivation
            def __init__(self, ka_alg: _Optional[_Union[Algorithm.KeyAgreement.Raw, str]] = ..., kdf_alg: _Optional[_Union[Algorithm.KeyDerivation, _Mapping]] = ...) -> None: ...
        RAW_FIELD_NUMBER: _ClassVar[int]
        WITH_KEY_DERIVATION_FIELD_NUMBER: _ClassVar[int]
        raw: Algorithm.KeyAgreement.Raw
        with_key_derivation: Algorithm.KeyAgreement.WithKeyDerivation
        def __init__(self, raw: _Optional[_Union[Algorithm.KeyAgreement.Raw, str]] = ..., with_key_derivation: _Optional[_Union[Algorithm.KeyAgreement.WithKeyDerivation, _Mapping]] = ...) -> None: ...
    class KeyDerivation(_message.Message):
        __slots__ = ("hkdf", "tls12_prf", "tls12_psk_to_ms")
        class Hkdf(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.Hash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
        class Tls12Prf(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.Hash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
        class Tls12PskToMs(_message.Message):
            __slots__ = ("hash_alg",)
            HASH_ALG_FIELD_NUMBER: _ClassVar[int]
            hash_alg: Algorithm.Hash
            def __init__(self, hash_alg: _Optional[_Union[Algorithm.Hash, str]] = ...) -> None: ...
        HKDF_FIELD_NUMBER: _ClassVar[int]
        TLS12_PRF_FIELD_NUMBER: _ClassVar[int]
        TLS12_PSK_TO_MS_FIELD_NUMBER: _ClassVar[int]
        hkdf: Algorithm.KeyDerivation.Hkdf
        tls12_prf: Algorithm.KeyDerivation.Tls12Prf
        tls12_psk_to_ms: Algorithm.KeyDerivation.Tls12PskToMs
        def __init__(self, hkdf: _Optional[_Union[Algorithm.KeyDerivation.Hkdf, _Mapping]] = ..., tls12_prf: _Optional[_Union[Algorithm.KeyDerivation.Tls12Prf, _Mapping]] = ..., tls12_psk_to_ms: _Optional[_Union[Algorithm.KeyDerivation.Tls12PskToMs, _Mapping]] = ...) -> None: ...
    NONE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    CIPHER_FIELD_NUMBER: _ClassVar[int]
    AEAD_FIELD_NUMBER: _ClassVar[int]
    ASYMMETRIC_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ASYMMETRIC_ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    KEY_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_DERIVATION_FIELD_NUMBER: _ClassVar[int]
    none: getattr(Algorithm, 'None')
    hash: Algorithm.Hash
    mac: Algorithm.Mac
    cipher: Algorithm.Cipher
    aead: Algorithm.Aead
    asymmetric_signature: Algorithm.AsymmetricSignature
    asymmetric_encryption: Algorithm.AsymmetricEncryption
    key_agreement: Algorithm.KeyAgreement
    key_derivation: Algorithm.KeyDerivation
    def __init__(self, none: _Optional[_Union[getattr(Algorithm, 'None'), _Mapping]] = ..., hash: _Optional[_Union[Algorithm.Hash, str]] = ..., mac: _Optional[_Union[Algorithm.Mac, _Mapping]] = ..., cipher: _Optional[_Union[Algorithm.Cipher, str]] = ..., aead: _Optional[_Union[Algorithm.Aead, _Mapping]] = ..., asymmetric_signature: _Optional[_Union[Algorithm.AsymmetricSignature, _Mapping]] = ..., asymmetric_encryption: _Optional[_Union[Algorithm.AsymmetricEncryption, _Mapping]] = ..., key_agreement: _Optional[_Union[Algorithm.KeyAgreement, _Mapping]] = ..., key_derivation: _Optional[_Union[Algorithm.KeyDerivation, _Mapping]] = ...) -> None: ...
