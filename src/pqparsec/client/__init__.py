"""A Python client for Parsec services (pqparsec or the Rust Parsec service).

`BasicClient` has one typed method per operation and conveniences that follow a key's policy
(`sign`, `verify`, `public_key`, `private_key`, `encrypt`, `seal`, `mac`, `agree`, `labels`).
Every service status raises a `ServiceError` (specific subclasses such as `KeyNotFound`); an
unreachable service raises `TransportError`; both are `ParsecClientError`s.
"""

from pqparsec.client import templates
from pqparsec.client.adapter import ServiceECPrivateKey, ServiceRSAPrivateKey, service_private_key
from pqparsec.client.basic import BasicClient
from pqparsec.client.errors import (
    AdminRequired,
    AlreadyExists,
    AuthenticationFailed,
    ClientConfigError,
    InvalidArgument,
    InvalidPadding,
    InvalidSignature,
    KeyNotFound,
    KeyTypeError,
    NotPermitted,
    NotSupported,
    ParsecClientError,
    PlatformStateChanged,
    ProviderUnavailable,
    ServiceError,
    TransportError,
    UnsupportedEndpoint,
    service_error,
)
from pqparsec.client.labels import LabelStore
from pqparsec.client.transport import Transport, default_endpoint

__all__ = [
    "AdminRequired", "AlreadyExists", "AuthenticationFailed", "BasicClient", "ClientConfigError",
    "InvalidArgument", "InvalidPadding", "InvalidSignature", "KeyNotFound", "KeyTypeError",
    "LabelStore", "NotPermitted", "NotSupported", "ParsecClientError", "PlatformStateChanged",
    "ProviderUnavailable",
    "ServiceECPrivateKey", "ServiceError", "ServiceRSAPrivateKey", "Transport", "TransportError",
    "UnsupportedEndpoint", "default_endpoint", "service_error", "service_private_key", "templates",
]
