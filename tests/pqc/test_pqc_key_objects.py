"""PQC keys moved between `cryptography` objects (and so PEM / DER files: SubjectPublicKeyInfo
and PKCS#8) and the service, through the client library and the CLI: ML-DSA and ML-KEM key pairs
travel as their PSA seed formats, public keys as their raw FIPS encodings."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem
from pqptest.service import ServiceProcess

from pqparsec.cli.main import cli
from pqparsec.client import keys
from pqparsec.client.pqc import PqcClient
from pqparsec.protocol.psa import KemAlg, KemKind, KeyKind, KeyPolicy, SignAlg, SignKind, UsageFlags

MSG = b"post-quantum key objects"
ML_DSA = SignAlg(SignKind.ML_DSA)
SIGNING = KeyPolicy(UsageFlags(sign_message=True, verify_message=True, export=True), ML_DSA)
KEM = KeyPolicy(UsageFlags(encrypt=True, decrypt=True, export=True), KemAlg(KemKind.ML_KEM))
SPKI = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


@pytest.mark.parametrize(("cls", "bits"), [(mldsa.MLDSA44PrivateKey, 128),
                                           (mldsa.MLDSA65PrivateKey, 192),
                                           (mldsa.MLDSA87PrivateKey, 256)])
def test_ml_dsa_key_objects(pq: PqcClient, cls: type, bits: int) -> None:
    key = cls.generate()  # type: ignore[attr-defined]
    attrs = pq.import_key_object("dsa", key, SIGNING)
    assert (attrs.key_type.kind, attrs.key_bits) == (KeyKind.ML_DSA_KEY_PAIR, bits)
    key.public_key().verify(pq.sign_message("dsa", ML_DSA, MSG), MSG)
    # Out again: the same seed, the same SubjectPublicKeyInfo.
    back = pq.export_key_object("dsa")
    assert isinstance(back, cls) and back.private_bytes_raw() == key.private_bytes_raw()
    assert pq.public_key_pem("dsa").encode() == key.public_key().public_bytes(*SPKI)
    # A public key read from a PEM file verifies what the original key signed.
    pub = keys.load_key(key.public_key().public_bytes(*SPKI))
    attrs = pq.import_key_object("dsa-pub", pub, SIGNING)
    assert (attrs.key_type.kind, attrs.key_bits) == (KeyKind.ML_DSA_PUBLIC_KEY, bits)
    pq.verify_message("dsa-pub", ML_DSA, MSG, key.sign(MSG))


@pytest.mark.parametrize(("cls", "bits"), [(mlkem.MLKEM768PrivateKey, 768),
                                           (mlkem.MLKEM1024PrivateKey, 1024)])
def test_ml_kem_key_objects(pq: PqcClient, cls: type, bits: int) -> None:
    key = cls.generate()  # type: ignore[attr-defined]
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    attrs = pq.import_key_object("kem", keys.load_key(der), KEM)
    assert (attrs.key_type.kind, attrs.key_bits) == (KeyKind.ML_KEM_KEY_PAIR, bits)
    secret, ct = key.public_key().encapsulate()
    assert pq.decapsulate("kem", KemKind.ML_KEM, ct) == secret
    assert pq.export_key_object("kem").private_bytes_raw() == key.private_bytes_raw()  # type: ignore[union-attr]
    pq.import_key_object("kem-pub", key.public_key(), KEM)
    ct, secret = pq.encapsulate("kem-pub", KemKind.ML_KEM)
    assert key.decapsulate(ct) == secret


def test_cli_import_of_ml_dsa_pem(pqc_service: ServiceProcess, tmp_path: Path) -> None:
    key = mldsa.MLDSA65PrivateKey.generate()
    path = tmp_path / "mldsa.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    base = ["--endpoint", pqc_service.endpoint, "-a", "pqc-cli-import", "-q"]
    out = CliRunner().invoke(cli, [*base, "import-key", "-k", "imported", str(path)])
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(cli, [*base, "export-public-key", "-k", "imported"])
    assert out.exit_code == 0, out.output
    assert out.output.encode() == key.public_key().public_bytes(*SPKI)
