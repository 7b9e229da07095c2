"""Key attestation with TPM2_Certify (pqparsec extension of AttestKey) on every provider: the TPM
provider certifies (and the statement verifies), the others answer PsaErrorNotSupported, as they
do for every AttestKey mechanism."""

from __future__ import annotations

from pqptest.status import expect_status

from pqparsec.client import BasicClient
from pqparsec.client.attestation import verify_certify
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.psa import (
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

P256 = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                     KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                               SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def test_certify_only_on_the_tpm_provider(client: BasicClient) -> None:
    client.generate_key("k", P256)
    client.generate_key("ak", P256)
    if client.provider == ProviderId.TPM:
        verify_certify(client.certify_key("k"), attested_public_key=client.public_key("k"))
        verify_certify(client.certify_key("k", b"n", attesting_key_name="ak"),
                       attesting_public_key=client.public_key("ak"))
        return
    for attesting in ("", "ak"):
        with expect_status(ResponseStatus.PSA_ERROR_NOT_SUPPORTED):
            client.certify_key("k", b"nonce", attesting_key_name=attesting)
