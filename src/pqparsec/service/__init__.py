"""The pqparsec daemon: listener, authenticators, dispatcher, key store and providers."""
