"""The `pqparsec` command line."""
