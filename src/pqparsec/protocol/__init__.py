"""The Parsec wire protocol: header, opcodes, status codes and typed operation bodies. No I/O."""
