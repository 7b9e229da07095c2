"""The post-quantum protocol extension's operations (docs/protocol-extensions.md), as a mixin.

`BasicClient` inherits `PqcClientMixin`; `pqparsec.client.pqc` re-exports it with `PqcClient`.
A client that never calls these sends exactly what a Parsec client sends: the context field is
left out of the body when it is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import KemKind, KeyAttributes, SignAlg


class PqcClientMixin:
    """Extension operations for a class that has `BasicClient.call`."""

    if TYPE_CHECKING:
        def call(self, opcode: Opcode, request: Any, provider: int | None = None,
                 authenticated: bool = True) -> Any: ...

    # -- key encapsulation (opcodes 0x0100 / 0x0101) ------------------------------------------

    def encapsulate(self, key_name: str, alg: KemKind) -> tuple[bytes, bytes]:
        """Encapsulate to a public key or key pair: (ciphertext, shared secret)."""
        r = self.call(Opcode.PSA_ENCAPSULATE, ops.PsaEncapsulateRequest(key_name, alg))
        return bytes(r.ciphertext), bytes(r.shared_secret)

    def encapsulate_to_key(self, key_name: str, alg: KemKind, output_key_name: str,
                           output_attributes: KeyAttributes) -> bytes:
        """Encapsulate, keeping the shared secret in the service as a new key (PSA
        psa_encapsulate). Returns the ciphertext."""
        r = self.call(Opcode.PSA_ENCAPSULATE, ops.PsaEncapsulateRequest(
            key_name, alg, output_key_name, output_attributes))
        return bytes(r.ciphertext)

    def decapsulate(self, key_name: str, alg: KemKind, ciphertext: bytes) -> bytes:
        """Decapsulate with a key pair: the shared secret. ML-KEM never fails on a corrupted
        ciphertext (implicit rejection): the secret is then simply a different one."""
        r = self.call(Opcode.PSA_DECAPSULATE, ops.PsaDecapsulateRequest(key_name, alg, ciphertext))
        return bytes(r.shared_secret)

    def decapsulate_to_key(self, key_name: str, alg: KemKind, ciphertext: bytes,
                           output_key_name: str, output_attributes: KeyAttributes) -> None:
        """Decapsulate into a new key of the service (PSA psa_decapsulate)."""
        self.call(Opcode.PSA_DECAPSULATE, ops.PsaDecapsulateRequest(
            key_name, alg, ciphertext, output_key_name, output_attributes))

    # -- signatures with a context string (ML-DSA, SLH-DSA) -----------------------------------

    def sign_hash_with_context(self, key_name: str, alg: SignAlg, hash: bytes,
                               context: bytes = b"") -> bytes:
        return bytes(self.call(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest(
            key_name, alg, hash, context)).signature)

    def verify_hash_with_context(self, key_name: str, alg: SignAlg, hash: bytes, signature: bytes,
                                 context: bytes = b"") -> None:
        self.call(Opcode.PSA_VERIFY_HASH, ops.PsaVerifyHashRequest(
            key_name, alg, hash, signature, context))

    def sign_message_with_context(self, key_name: str, alg: SignAlg, message: bytes,
                                  context: bytes = b"") -> bytes:
        return bytes(self.call(Opcode.PSA_SIGN_MESSAGE, ops.PsaSignMessageRequest(
            key_name, alg, message, context)).signature)

    def verify_message_with_context(self, key_name: str, alg: SignAlg, message: bytes,
                                    signature: bytes, context: bytes = b"") -> None:
        self.call(Opcode.PSA_VERIFY_MESSAGE, ops.PsaVerifyMessageRequest(
            key_name, alg, message, signature, context))


__all__ = ["PqcClientMixin"]
