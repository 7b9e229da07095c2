"""pqparsec: a Parsec-compatible platform security service, client library and CLI."""

__version__ = "0.1.0"
