"""Keys bound to PCRs (a protocol extension) on every provider: only the TPM provider can enforce
a binding; the others refuse it with PsaErrorNotSupported, and CanDoCrypto says so. The
binding's behaviour itself is tested against swtpm in tests/tpm/test_tpm_pcr.py."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pqparsec.client import BasicClient, NotSupported, templates
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.operations import CheckType

ECC = templates.ecc_signing(256)
BOUND = templates.bound_to_pcrs(ECC, [7, 16])


def test_pcr_binding_needs_a_tpm(client: BasicClient) -> None:
    assert client.can_do_crypto(CheckType.GENERATE, ECC)
    private = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    if client.provider == ProviderId.TPM:
        assert client.can_do_crypto(CheckType.GENERATE, BOUND)
        assert client.can_do_crypto(CheckType.IMPORT, BOUND)
        client.generate_key("bound", ECC, pcrs=[16])
        client.sign("bound", b"data")
        return
    for check in (CheckType.GENERATE, CheckType.IMPORT, CheckType.USE):
        assert not client.can_do_crypto(check, BOUND), check
    with pytest.raises(NotSupported, match="NotSupported"):
        client.generate_key("bound", ECC, pcrs=[7, 16])
    with pytest.raises(NotSupported):
        client.import_key("imported", ECC, private.to_bytes(32, "big"), pcrs=[16])
    # A malformed binding is still NotSupported here: nothing of it could be enforced.
    with pytest.raises(NotSupported):
        client.generate_key("bad", ECC, pcrs=[99])
    assert client.list_keys(include_extensions=True) == []
