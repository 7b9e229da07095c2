"""Service statuses become ServiceError subclasses carrying the code and its name."""

from __future__ import annotations

import hashlib

import pytest

from pqparsec.client import (
    AdminRequired,
    AlreadyExists,
    BasicClient,
    InvalidArgument,
    InvalidSignature,
    KeyNotFound,
    NotPermitted,
    NotSupported,
    ParsecClientError,
    ProviderUnavailable,
    ServiceError,
    service_error,
    templates,
)
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus


@pytest.mark.parametrize(("status", "cls"), [
    (ResponseStatus.PSA_ERROR_DOES_NOT_EXIST, KeyNotFound),
    (ResponseStatus.PSA_ERROR_ALREADY_EXISTS, AlreadyExists),
    (ResponseStatus.PSA_ERROR_NOT_PERMITTED, NotPermitted),
    (ResponseStatus.PSA_ERROR_NOT_SUPPORTED, NotSupported),
    (ResponseStatus.OPCODE_DOES_NOT_EXIST, NotSupported),
    (ResponseStatus.PSA_ERROR_INVALID_ARGUMENT, InvalidArgument),
    (ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, InvalidSignature),
    (ResponseStatus.ADMIN_OPERATION, AdminRequired),
    (ResponseStatus.PROVIDER_NOT_REGISTERED, ProviderUnavailable),
    (ResponseStatus.PSA_ERROR_GENERIC_ERROR, ServiceError),
    (ResponseStatus.PSA_ERROR_STORAGE_FAILURE, ServiceError),
])
def test_status_to_class(status: ResponseStatus, cls: type[ServiceError]) -> None:
    err = service_error(status, "PSA_SIGN_HASH")
    assert type(err) is cls
    assert isinstance(err, ServiceError) and isinstance(err, ParsecClientError)
    assert err.status == status
    assert err.code == int(status)
    assert err.status_name == status.parsec_name
    assert err.operation == "PSA_SIGN_HASH"
    assert status.parsec_name in str(err)


def test_unknown_code_becomes_generic_error() -> None:
    err = service_error(999, "PING")
    assert err.status == ResponseStatus.PSA_ERROR_GENERIC_ERROR


def test_key_not_found(client: BasicClient) -> None:
    with pytest.raises(KeyNotFound) as info:
        client.destroy_key("never-created")
    assert info.value.code == 1140
    assert info.value.status_name == "PsaErrorDoesNotExist"
    assert info.value.operation == "PSA_DESTROY_KEY"


def test_already_exists(client: BasicClient) -> None:
    client.generate_key("dup", templates.ecc_signing())
    with pytest.raises(AlreadyExists) as info:
        client.generate_key("dup", templates.ecc_signing())
    assert info.value.code == 1139


def test_not_permitted_by_policy(client: BasicClient) -> None:
    client.generate_key("sha256-only", templates.ecc_signing())
    digest = hashlib.sha384(b"x").digest()
    with pytest.raises(NotPermitted) as info:
        client.sign_hash("sha256-only", SignAlg(SignKind.ECDSA, Hash.SHA_384), digest)
    assert info.value.code == 1133


def test_admin_operation_refused(client: BasicClient, admin: BasicClient) -> None:
    with pytest.raises(AdminRequired) as info:
        client.list_clients()
    assert info.value.code == 21
    assert info.value.status_name == "AdminOperation"
    assert isinstance(admin.list_clients(), list)


def test_invalid_signature(client: BasicClient) -> None:
    client.generate_key("v", templates.ecc_signing())
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    digest = hashlib.sha256(b"m").digest()
    sig = client.sign_hash("v", alg, digest)
    bad = bytes([sig[0] ^ 1]) + sig[1:]
    with pytest.raises(InvalidSignature) as info:
        client.verify_hash("v", alg, digest, bad)
    assert info.value.code == 1149
