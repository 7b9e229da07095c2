"""Operation codes and the properties the service routes on."""

from __future__ import annotations

from enum import IntEnum


class Opcode(IntEnum):
    PING = 0x01
    PSA_GENERATE_KEY = 0x02
    PSA_DESTROY_KEY = 0x03
    PSA_SIGN_HASH = 0x04
    PSA_VERIFY_HASH = 0x05
    PSA_IMPORT_KEY = 0x06
    PSA_EXPORT_PUBLIC_KEY = 0x07
    LIST_PROVIDERS = 0x08
    LIST_OPCODES = 0x09
    PSA_ASYMMETRIC_ENCRYPT = 0x0A
    PSA_ASYMMETRIC_DECRYPT = 0x0B
    PSA_EXPORT_KEY = 0x0C
    PSA_GENERATE_RANDOM = 0x0D
    LIST_AUTHENTICATORS = 0x0E
    PSA_HASH_COMPUTE = 0x0F
    PSA_HASH_COMPARE = 0x10
    PSA_AEAD_ENCRYPT = 0x11
    PSA_AEAD_DECRYPT = 0x12
    PSA_RAW_KEY_AGREEMENT = 0x13
    PSA_CIPHER_ENCRYPT = 0x14
    PSA_CIPHER_DECRYPT = 0x15
    PSA_MAC_COMPUTE = 0x16
    PSA_MAC_VERIFY = 0x17
    PSA_SIGN_MESSAGE = 0x18
    PSA_VERIFY_MESSAGE = 0x19
    LIST_KEYS = 0x1A
    LIST_CLIENTS = 0x1B
    DELETE_CLIENT = 0x1C
    ATTEST_KEY = 0x1E
    PREPARE_KEY_ATTESTATION = 0x1F
    CAN_DO_CRYPTO = 0x20
    # pqparsec extensions (docs/protocol-extensions.md): from 0x0100 upward.
    PSA_ENCAPSULATE = 0x0100
    PSA_DECAPSULATE = 0x0101
    ADOPT_KEY = 0x0102  # admin: bind a key pair already on a PKCS#11 token to an application

    @property
    def is_core(self) -> bool:
        return self in CORE_OPCODES

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_OPCODES

    @property
    def needs_identity(self) -> bool:
        return self not in ANONYMOUS_OPCODES

    @property
    def is_extension(self) -> bool:
        return self >= EXTENSION_OPCODE_BASE


# Our extension opcodes start here, so that a future Parsec opcode cannot collide.
EXTENSION_OPCODE_BASE = 0x0100


CORE_OPCODES = frozenset({
    Opcode.PING, Opcode.LIST_PROVIDERS, Opcode.LIST_OPCODES, Opcode.LIST_AUTHENTICATORS,
    Opcode.LIST_KEYS, Opcode.LIST_CLIENTS, Opcode.DELETE_CLIENT,
})

ADMIN_OPCODES = frozenset({Opcode.LIST_CLIENTS, Opcode.DELETE_CLIENT, Opcode.ADOPT_KEY})

# Opcodes served without an application identity (NoAuth is enough). ListClients is admin-checked
# before this matters.
ANONYMOUS_OPCODES = frozenset({
    Opcode.PING, Opcode.LIST_PROVIDERS, Opcode.LIST_OPCODES, Opcode.LIST_AUTHENTICATORS,
    Opcode.LIST_CLIENTS, Opcode.PSA_HASH_COMPUTE, Opcode.PSA_HASH_COMPARE, Opcode.PSA_GENERATE_RANDOM,
})

# Opcodes the Rust client's enum knows. It fails a whole ListOpcodes answer on any other value, so a
# plain ListOpcodes never returns anything outside this set.
PARSEC_CLIENT_OPCODES = frozenset(op for op in Opcode
                                  if op < EXTENSION_OPCODE_BASE
                                  and op not in (Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY))
EXTENSION_OPCODES = frozenset(op for op in Opcode if op >= EXTENSION_OPCODE_BASE)


def lookup(value: int) -> Opcode | None:
    try:
        return Opcode(value)
    except ValueError:
        return None
