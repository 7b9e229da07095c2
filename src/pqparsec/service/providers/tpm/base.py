"""The TPM provider's shared machinery and key management: the TPM worker, stored keys (blob.py),
PsaGenerateKey / PsaImportKey (with PCR bindings, pcr.py), PsaDestroyKey, PsaExportPublicKey.
The other operation families are mixins beside this module, combined in provider.py."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from tpm2_pytss.constants import TPM2_ALG
from tpm2_pytss.types import TPM2B_DATA, TPMT_SYM_DEF_OBJECT
from tpm2_pytss.utils import wrap

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.operations import (
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    PsaGenerateKeyRequest,
    PsaImportKeyRequest,
)
from pqparsec.protocol.psa import Hash, KeyAttributes, crypto
from pqparsec.protocol.psa.policy import (
    check_not_deprecated,
    check_pcr_binding,
    invalid_argument,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.tpm import blob as blobs
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import device as tpm_device
from pqparsec.service.providers.tpm import objects, pcr

log = logging.getLogger(__name__)

T = TypeVar("T")


def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    """The `cryptography` hash of a hash the TPM provider supports (capabilities.HASHES)."""
    if h not in caps.HASHES:
        raise not_supported(f"the TPM provider does not support {h.name}")
    return crypto.hash_algorithm(h)


def hash_message(h: Hash, data: bytes) -> bytes:
    d = hashes.Hash(hash_algorithm(h))
    d.update(data)
    return d.finalize()


class TpmBase(KeyProvider):
    provider_id = ProviderId.TPM
    description = ("TPM 2.0 provider: keys wrapped by the TPM's storage key and used inside "
                   "the TPM, through tpm2-pytss")
    supports_pcr_binding = True

    def __init__(self, store: KeyStore, device: tpm_device.TpmDevice, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.device = device
        self._closed = False
        # Requests wait for the one TPM worker on these threads, not on the shared pool.
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pqparsec-tpm-req")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            tpm_device.release(self.device)
            assert self.executor is not None
            self.executor.shutdown(wait=False)

    # -- the TPM worker -------------------------------------------------------------------------

    def _tpm(self, what: str, job: Callable[[Any], T]) -> T:
        """Run a job on the TPM worker; TSS errors become PSA statuses."""
        try:
            result: T = self.device.run(job)
            return result
        except tpm_device.TSS2_Exception as exc:
            raise tpm_device.parsec_error(exc, self.device.tcti, what) from None

    # -- stored keys ----------------------------------------------------------------------------

    @staticmethod
    def _blob(rec: KeyRecord) -> blobs.KeyBlob:
        return blobs.decode(rec.key_id)

    def _tpm_key(self, rec: KeyRecord, op: str) -> blobs.TpmKeyBlob:
        b = self._blob(rec)
        if not isinstance(b, blobs.TpmKeyBlob):
            raise invalid_argument(f"a public key cannot be used for {op}")
        return b

    def public_key(self, rec: KeyRecord) -> crypto.PublicKey:
        b = self._blob(rec)
        if isinstance(b, blobs.TpmKeyBlob):
            return objects.public_key(objects.unmarshal_public(b.public))
        return crypto.load_public(b.data, rec.attributes)

    # -- key management -------------------------------------------------------------------------

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        attrs = req.attributes
        check_not_deprecated(attrs, self.limits.allow_deprecated)
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        if attrs.key_type.is_public_key:
            raise invalid_argument("a public key cannot be generated; generate the key pair")
        caps.check_key_type(attrs.key_type, attrs.key_bits)
        caps.check_policy(attrs)
        attrs, bound_values = self._bind(attrs, "PsaGenerateKey")
        auth = os.urandom(objects.AUTH_LEN)
        policy = self._auth_policy(attrs)

        def create(dev: Any) -> bytes:
            private, public, *_ = dev.ctx.create(dev.primary, objects.sensitive_create(auth),
                                                 objects.key_template(attrs, policy))
            return blobs.encode(blobs.TpmKeyBlob(dev.primary_name, auth, bytes(public.marshal()),
                                                 bytes(private.marshal()), bound_values))

        # Nothing stays in the TPM, so a failed mapping leaves nothing to undo.
        self.create(app, req.key_name, attrs, lambda: self._tpm("PsaGenerateKey", create))
        return EmptyResult()

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        attrs = req.attributes
        kt = attrs.key_type
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        if not caps.key_sizes(kt):
            raise not_supported(f"importing {kt.describe()} keys is not supported by the TPM "
                                "provider")
        caps.check_policy(attrs)
        attrs, bound_values = self._bind(attrs, "PsaImportKey")
        make_key: Callable[[], bytes]
        if kt.is_public_key:
            pub = crypto.load_public(req.data, attrs)
            bits = self._checked_bits(attrs, crypto.key_size_bits(pub))
            data = blobs.encode(blobs.PublicKeyBlob(crypto.export_public(pub)))

            def make_key() -> bytes:
                return data
        else:
            priv = crypto.load_private(req.data, attrs)
            bits = self._checked_bits(attrs, crypto.key_size_bits(priv))
            final = dataclasses.replace(attrs, key_bits=bits)

            def make_key() -> bytes:
                return self._tpm("PsaImportKey",
                                 lambda dev: self._import_private(dev, final, priv, bound_values))
        self.create(app, req.key_name, dataclasses.replace(attrs, key_bits=bits), make_key)
        return EmptyResult()

    @staticmethod
    def _checked_bits(attrs: KeyAttributes, bits: int) -> int:
        if attrs.key_bits and attrs.key_bits != bits:
            raise invalid_argument(f"key_bits is {attrs.key_bits} but the key data has {bits} bits")
        caps.check_key_type(attrs.key_type, bits)
        return bits

    @classmethod
    def _import_private(cls, dev: Any, attrs: KeyAttributes, key: crypto.PrivateKey,
                        bound_values: bytes = b"") -> bytes:
        """TPM2_Import: wrap the key to the storage key's public part (as a duplication blob
        would be), let the TPM re-wrap it under its own protection."""
        auth = os.urandom(objects.AUTH_LEN)
        public, sensitive = objects.import_structures(attrs, key, auth, cls._auth_policy(attrs))
        _, duplicate, seed = wrap(dev.primary_public.publicArea, public, sensitive)
        private = dev.ctx.import_(dev.primary, TPM2B_DATA(), public, duplicate, seed,
                                  TPMT_SYM_DEF_OBJECT(algorithm=TPM2_ALG.NULL))
        return blobs.encode(blobs.TpmKeyBlob(dev.primary_name, auth, bytes(public.marshal()),
                                             bytes(private.marshal()), bound_values))

    # -- keys bound to PCR values (pcr.py) --------------------------------------------------------

    def _bind(self, attrs: KeyAttributes, what: str) -> tuple[KeyAttributes, bytes]:
        """A requested PCR binding, checked and resolved: the attributes to store, with the
        digest the key is bound to (the PCRs' current values unless the caller gave one), and
        the PCR values behind it (empty if the caller gave the digest)."""
        binding = attrs.pcr_binding
        if binding is None:
            return attrs, b""
        binding = check_pcr_binding(binding)
        pcr.check_bank(binding)
        if attrs.key_type.is_public_key:
            raise not_supported("a public key cannot be bound to PCRs: it is used outside the "
                                "TPM")
        resolved, values = self._tpm(what, lambda dev: pcr.resolve(dev, binding))
        return dataclasses.replace(attrs, policy=dataclasses.replace(
            attrs.policy, pcr_binding=resolved)), values

    @staticmethod
    def _auth_policy(attrs: KeyAttributes) -> bytes:
        binding = attrs.pcr_binding
        return b"" if binding is None else pcr.policy_digest(binding)

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        self.remove(app, req.key_name)  # the TPM holds nothing of the key between uses
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        return KeyDataResult(crypto.export_public(self.public_key(rec)))
