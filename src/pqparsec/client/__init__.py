"""A Python client for Parsec services (pqparsec or the Rust Parsec service)."""

from pqparsec.client.basic import BasicClient
from pqparsec.client.errors import ParsecClientError, ServiceError
from pqparsec.client.transport import Transport, default_endpoint

__all__ = ["BasicClient", "ParsecClientError", "ServiceError", "Transport", "default_endpoint"]
