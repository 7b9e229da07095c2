"""The post-quantum and EdDSA commands through the real `pqparsec` executable: create-mlkem-key,
create-mldsa-key, create-slhdsa-key, create-ed25519-key, sign/verify (with --context),
encapsulate/decapsulate, and create-csr with ML-DSA keys."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pqptest.cli import Cli, run_openssl

from pqparsec.protocol.psa import (
    EccFamily,
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    SignAlg,
    SignKind,
    SlhDsaFamily,
)


def _attrs(cli: Cli, name: str) -> KeyAttributes:
    return {k.name: k.attributes for k in cli.client().list_keys(include_extensions=True)}[name]


def test_create_pqc_keys(cli: Cli) -> None:
    cli("create-mlkem-key", "-k", "kem")
    cli("create-mlkem-key", "-k", "kem512", "--bits", "512")
    cli("create-mldsa-key", "-k", "mldsa")
    cli("create-mldsa-key", "-k", "mldsa44-hash", "--level", "44", "--hash", "sha256")
    cli("create-slhdsa-key", "-k", "slh")
    cli("create-slhdsa-key", "-k", "slh-shake", "--family", "shake-f", "--bits", "192")
    cli("create-ed25519-key", "-k", "ed")
    cli("create-ed25519-key", "-k", "ed448", "--ed448")
    kem = _attrs(cli, "kem")
    assert kem.key_type.kind == KeyKind.ML_KEM_KEY_PAIR and kem.key_bits == 768
    assert kem.algorithm == KemAlg(KemKind.ML_KEM)
    assert _attrs(cli, "kem512").key_bits == 512
    mldsa = _attrs(cli, "mldsa")
    assert mldsa.key_type.kind == KeyKind.ML_DSA_KEY_PAIR and mldsa.key_bits == 192
    assert mldsa.algorithm == SignAlg(SignKind.ML_DSA)
    h = _attrs(cli, "mldsa44-hash")
    assert h.key_bits == 128 and h.algorithm == SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256)
    slh = _attrs(cli, "slh")
    assert slh.key_type.slh_dsa_family == SlhDsaFamily.SHA2_F and slh.key_bits == 128
    assert slh.algorithm == SignAlg(SignKind.SLH_DSA)
    shake = _attrs(cli, "slh-shake")
    assert shake.key_type.slh_dsa_family == SlhDsaFamily.SHAKE_F and shake.key_bits == 192
    ed = _attrs(cli, "ed")
    assert ed.key_type.ecc_family == EccFamily.TWISTED_EDWARDS and ed.key_bits == 255
    assert _attrs(cli, "ed448").key_bits == 448
    bad = cli("create-mlkem-key", "-k", "x", "--bits", "640", check=False)
    assert bad.returncode == 2


@pytest.mark.parametrize("create", [
    ("create-mldsa-key",), ("create-mldsa-key", "--level", "87", "--hash", "sha384"),
    ("create-slhdsa-key",), ("create-ed25519-key",), ("create-ed25519-key", "--ed448"),
], ids=["mldsa65", "hashmldsa87", "slhdsa", "ed25519", "ed448"])
def test_sign_verify_round_trip(cli: Cli, create: tuple[str, ...]) -> None:
    cli(*create, "-k", "s")
    sig = cli("sign", "-k", "s", "hello pqc").stdout.strip()
    assert base64.b64decode(sig)
    assert cli("verify", "-k", "s", "hello pqc", "-s", sig).stdout.strip() == "Signature is valid."
    wrong = cli("verify", "-k", "s", "hello pqd", "-s", sig, check=False)
    assert wrong.returncode == 10, wrong.stderr
    if create[0] == "create-ed25519-key":
        refused = cli("sign", "-k", "s", "x", "--context", "ctx", check=False)
        assert refused.returncode == 2 and "--context" in refused.stderr
        return
    csig = cli("sign", "-k", "s", "hello pqc", "--context", "app-v1").stdout.strip()
    cli("verify", "-k", "s", "hello pqc", "-s", csig, "--context", "app-v1")
    assert cli("verify", "-k", "s", "hello pqc", "-s", csig, check=False).returncode == 10
    assert cli("verify", "-k", "s", "hello pqc", "-s", csig, "--context", "app-v2",
               check=False).returncode == 10
    long = cli("sign", "-k", "s", "x", "--context", "c" * 256, check=False)
    assert long.returncode == 2 and "255" in long.stderr


def test_ed25519_verified_by_openssl(cli: Cli, openssl: str, tmp_path: Path) -> None:
    cli("create-ed25519-key", "-k", "ed")
    exported = cli("export-public-key", "-k", "ed", check=False)
    if exported.returncode != 0 or "BEGIN PUBLIC KEY" not in exported.stdout:
        pytest.skip("export-public-key gives no PEM for Ed25519 keys")
    (tmp_path / "pub.pem").write_text(exported.stdout)
    (tmp_path / "msg").write_bytes(b"signed by the service")
    sig = cli("sign", "-k", "ed", "-f", str(tmp_path / "msg")).stdout.strip()
    (tmp_path / "sig").write_bytes(base64.b64decode(sig))
    out = run_openssl(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                      "-rawin", "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig"))
    assert "Signature Verified Successfully" in out


def test_deterministic_slhdsa_key(cli: Cli) -> None:
    cli("create-slhdsa-key", "-k", "det", "--deterministic")
    assert _attrs(cli, "det").algorithm == SignAlg(SignKind.DETERMINISTIC_SLH_DSA)
    sig = cli("sign", "-k", "det", "same input").stdout.strip()
    assert cli("sign", "-k", "det", "same input").stdout.strip() == sig
    cli("verify", "-k", "det", "same input", "-s", sig)


@pytest.mark.parametrize(("level", "oid"), [("44", "2.16.840.1.101.3.4.3.17"),
                                            ("65", "2.16.840.1.101.3.4.3.18"),
                                            ("87", "2.16.840.1.101.3.4.3.19")])
def test_mldsa_csr(cli: Cli, level: str, oid: str) -> None:
    """OpenSSL 3.0 knows no ML-DSA: `cryptography` parses and verifies the request."""
    cli("create-mldsa-key", "-k", "ml", "--level", level)
    pem = cli("create-csr", "-k", "ml", "--cn", "pqparsec.example", "--san", "localhost").stdout
    csr = x509.load_pem_x509_csr(pem.encode())
    assert csr.signature_algorithm_oid.dotted_string == oid
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=pqparsec.example"
    pub = cli("export-public-key", "-k", "ml").stdout
    assert csr.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo
                                         ).decode() == pub
    cli("create-mldsa-key", "-k", "ml-hash", "--hash", "sha256")
    refused = cli("create-csr", "-k", "ml-hash", "--cn", "x", check=False)
    assert refused.returncode == 5 and "WrongKeyAlgorithm" in refused.stderr
    assert "HashML-DSA" in refused.stderr


@pytest.mark.parametrize("bits", ["512", "768", "1024"])
def test_encapsulate_decapsulate(cli: Cli, bits: str) -> None:
    cli("create-mlkem-key", "-k", "kem", "--bits", bits)
    ct, secret = cli("encapsulate", "-k", "kem").lines
    assert len(base64.b64decode(ct)) == {"512": 768, "768": 1088, "1024": 1568}[bits]
    assert len(base64.b64decode(secret)) == 32
    assert cli("decapsulate", "-k", "kem", ct).stdout.strip() == secret
    as_json = json.loads(cli("encapsulate", "-k", "kem", "--json").stdout)
    assert set(as_json) == {"ciphertext", "shared_secret"}
    assert cli("decapsulate", "-k", "kem", as_json["ciphertext"]).stdout.strip() == \
        as_json["shared_secret"]


def test_kem_commands_errors(cli: Cli) -> None:
    cli("create-mlkem-key", "-k", "kem")
    cli("create-ed25519-key", "-k", "ed")
    wrong = cli("encapsulate", "-k", "ed", check=False)
    assert wrong.returncode != 0 and "WrongKeyAlgorithm" in wrong.stderr
    signing = cli("sign", "-k", "kem", "x", check=False)
    assert signing.returncode != 0 and "WrongKeyAlgorithm" in signing.stderr
    short = cli("decapsulate", "-k", "kem", base64.b64encode(b"\0" * 100).decode(), check=False)
    assert short.returncode != 0 and "InvalidArgument" in short.stderr, short.stderr
    assert cli("decapsulate", "-k", "kem", "not base64!", check=False).returncode == 2
