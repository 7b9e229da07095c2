"""Provider ids, their UUIDs and names, and authenticator types, as Parsec numbers them."""

from __future__ import annotations

from enum import IntEnum


class ProviderId(IntEnum):
    CORE = 0
    MBED_CRYPTO = 1
    PKCS11 = 2
    TPM = 3
    TRUSTED_SERVICE = 4
    CRYPTOAUTHLIB = 5


PROVIDER_UUIDS: dict[ProviderId, str] = {
    ProviderId.CORE: "47049873-2a43-4845-9d72-831eab668784",
    ProviderId.MBED_CRYPTO: "1c1139dc-ad7c-47dc-ad6b-db6fdb466552",
    ProviderId.PKCS11: "30e39502-eba6-4d60-a4af-c518b7f5e38f",
    ProviderId.TPM: "1e4954a4-ff21-46d3-ab0c-661eeb667e1d",
    ProviderId.TRUSTED_SERVICE: "71129441-508a-4da6-b6e8-7b98a777e4c0",
    ProviderId.CRYPTOAUTHLIB: "b8ba81e2-e9f7-4bdd-b096-a29d0019960c",
}

DEFAULT_PROVIDER_NAMES: dict[ProviderId, str] = {
    ProviderId.CORE: "core-provider",
    ProviderId.MBED_CRYPTO: "mbed-crypto-provider",
    ProviderId.PKCS11: "pkcs11-provider",
    ProviderId.TPM: "tpm-provider",
    ProviderId.TRUSTED_SERVICE: "trusted-service-provider",
    ProviderId.CRYPTOAUTHLIB: "cryptoauthlib-provider",
}


class AuthType(IntEnum):
    NO_AUTH = 0
    DIRECT = 1
    JWT = 2
    UNIX_PEER_CREDENTIALS = 3
    JWT_SVID = 4
