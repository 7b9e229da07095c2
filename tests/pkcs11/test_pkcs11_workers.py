"""The PKCS#11 provider with several worker processes: each worker has its own sessions on the
token; a key made through one worker signs through every other, and destroying it removes the
token objects and the key everywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from p11_helpers import key_id
from pqptest.psa import attrs
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm, TokenInfo
from pqptest.workers import hammer, served_by

from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import EccFamily, Hash, KeyType, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
SIGNING = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA, sign_hash=True,
                verify_hash=True)
DIGEST = hashlib.sha256(b"pkcs11 workers").digest()


def test_token_keys_across_workers(make_service: Callable[..., ServiceProcess], hsm: SoftHsm,
                                   token: TokenInfo) -> None:
    svc = make_service(hsm.table(token), core={"workers": 2}).start()
    client = svc.client("p11-workers")
    client.generate_key("k", SIGNING)
    cka_id = key_id(svc, "p11-workers", "k")
    errors = hammer(lambda: client.verify_hash("k", ECDSA, DIGEST,
                                               client.sign_hash("k", ECDSA, DIGEST)),
                    lambda: served_by(svc, "p11-workers", "PSA_SIGN_HASH", "Success") == {0, 1})
    assert errors == []
    assert any(o["id"] == cka_id for o in hsm.objects(token))
    client.destroy_key("k")
    assert not any(o["id"] == cka_id for o in hsm.objects(token))

    def gone() -> None:
        with pytest.raises(ServiceError) as err:
            client.sign_hash("k", ECDSA, DIGEST)
        assert err.value.status == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST

    errors = hammer(gone, lambda: served_by(svc, "p11-workers", "PSA_SIGN_HASH",
                                            "PsaErrorDoesNotExist") == {0, 1})
    assert errors == []
