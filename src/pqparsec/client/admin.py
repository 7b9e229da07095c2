"""Admin extension operations that are not Parsec's: AdoptKey (opcode 0x0102).

A function of a `BasicClient` rather than a method, so that the client's Parsec surface stays
Parsec's; the caller must be one of the service's admins.
"""

from __future__ import annotations

from pqparsec.client.basic import BasicClient
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import KeyAttributes


def adopt_key(client: BasicClient, application_name: str, key_name: str,
              attributes: KeyAttributes, label: str | None = None, id: bytes | None = None,
              provider: int = ProviderId.PKCS11) -> None:
    """Bind the key pair on the PKCS#11 token with CKA_LABEL `label` or CKA_ID `id` (exactly one)
    to key `key_name` of application `application_name`, with policy `attributes` (its key type
    must be the token object's; key_bits 0 takes the object's size).

    Raises AdminRequired for a caller who is no admin, AlreadyExists if the object already belongs
    to a key (or the application has a key of that name), KeyNotFound if there is no such
    object."""
    if (label is None) == (id is None):
        raise ValueError("adopt_key: give exactly one of label and id")
    request = ops.AdoptKeyRequest(application_name, key_name, attributes, label=label,
                                  id=None if id is None else bytes(id))
    client.call(Opcode.ADOPT_KEY, request, provider=provider)
