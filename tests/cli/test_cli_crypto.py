"""Key and crypto commands checked against the service (through the client library) and the
`cryptography` package: create-*, sign/verify, AEAD, MAC, export-key, labels."""

from __future__ import annotations

import base64
import hmac
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from pqptest.cli import Cli

from pqparsec.client import templates
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyType,
    MacAlg,
    MacKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)

Require = Callable[[Opcode], None]


def test_create_rsa_key_policies(cli: Cli) -> None:
    cli("create-rsa-key", "-k", "enc", "-b", "1024")
    cli("create-rsa-key", "-k", "oaep", "-o", "-b", "1024")
    cli("create-rsa-key", "-k", "sig", "-s", "-b", "1024")
    cli("create-rsa-key", "-k", "pss", "-r", "-b", "1024", "-x")
    keys = {k.name: k.attributes for k in cli.client().list_keys()}
    assert keys["enc"] == templates.rsa_encryption(1024)
    assert keys["enc"].algorithm == EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    assert keys["oaep"].algorithm == EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
    assert keys["sig"].algorithm == SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    assert keys["sig"].usage == templates.SIGNING
    assert keys["pss"].algorithm == SignAlg(SignKind.RSA_PSS, Hash.SHA_256)
    assert keys["pss"].usage.export is True
    both = cli("create-rsa-key", "-k", "bad", "-s", "-r", check=False)
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_create_ecc_key_variants(cli: Cli) -> None:
    cli("create-ecc-key", "-k", "default")
    cli("create-ecc-key", "-k", "p521", "-c", "secp521r1")
    cli("create-ecc-key", "-k", "dh", "--ecdh")
    cli("create-ecc-key", "-k", "x", "-c", "x25519")
    keys = {k.name: k.attributes for k in cli.client().list_keys()}
    assert keys["default"] == templates.ecc_signing()
    assert keys["default"].key_type == KeyType.ecc_key_pair(EccFamily.SECP_R1)
    assert keys["p521"].key_bits == 521
    assert keys["p521"].algorithm == SignAlg(SignKind.ECDSA, Hash.SHA_512)
    assert keys["dh"].algorithm == KeyAgreementAlg(RawKeyAgreement.ECDH)
    assert keys["x"].key_type == KeyType.ecc_key_pair(EccFamily.MONTGOMERY)
    assert keys["x"].key_bits == 255


def test_sign_verify_roundtrip(cli: Cli, tmp_path: Path) -> None:
    cli("create-ecc-key", "-k", "s")
    res = cli("sign", "-k", "s", "Hello Parsec")
    assert "[INFO ] Hashing data with Sha256..." in res.stderr
    assert "[INFO ] Signing data with Ecdsa { hash_alg: Specific(Sha256) }..." in res.stderr
    der = base64.b64decode(res.stdout.strip())
    pub = cli.client().public_key("s")
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(der, b"Hello Parsec", ec.ECDSA(hashes.SHA256()))
    sig = res.stdout.strip()
    assert cli("verify", "-k", "s", "Hello Parsec", "-s", sig).stdout == "Signature is valid.\n"
    bad = cli("verify", "-k", "s", "Hello Parsec!", "-s", sig, check=False)
    assert bad.returncode == 10
    assert "PsaErrorInvalidSignature (1149)" in bad.stderr
    raw = cli("sign", "-k", "s", "--raw", "Hello Parsec").stdout.strip()
    assert len(base64.b64decode(raw)) == 64
    assert cli("verify", "-k", "s", "--raw", "Hello Parsec", "-s", raw).returncode == 0
    f = tmp_path / "data.bin"
    f.write_bytes(bytes(range(256)))
    file_sig = cli("sign", "-k", "s", "-f", str(f)).stdout.strip()
    pub.verify(base64.b64decode(file_sig), bytes(range(256)), ec.ECDSA(hashes.SHA256()))
    assert cli("verify", "-k", "s", "-f", str(f), "-s", file_sig).returncode == 0
    both = cli("sign", "-k", "s", "x", "-f", str(f), check=False)
    assert both.returncode == 2
    assert cli("verify", "-k", "s", "x", "-s", "%%%", check=False).returncode == 2


@pytest.mark.parametrize("alg", ["aes-gcm", "aes-ccm", "chacha20-poly1305"])
def test_aead_roundtrip_and_cross_check(cli: Cli, require_opcode: Require, alg: str) -> None:
    require_opcode(Opcode.PSA_AEAD_ENCRYPT)
    require_opcode(Opcode.PSA_AEAD_DECRYPT)
    cli("create-symmetric-key", "-k", "a", "-a", alg, "--exportable")
    attrs = cli.client().key_attributes("a")
    kind = {"aes-gcm": AeadKind.GCM, "aes-ccm": AeadKind.CCM,
            "chacha20-poly1305": AeadKind.CHACHA20_POLY1305}[alg]
    assert attrs.algorithm == AeadAlg(kind)
    sealed = cli("aead-encrypt", "-k", "a", "secret text", "--aad", "header").stdout.strip()
    assert cli("aead-decrypt", "-k", "a", sealed, "--aad", "header").stdout == "secret text\n"
    bad = cli("aead-decrypt", "-k", "a", sealed, "--aad", "other", check=False)
    assert bad.returncode == 10
    short = cli("aead-decrypt", "-k", "a", "AAAA", check=False)
    assert short.returncode == 9 and "Error: InvalidInput: " in short.stderr
    if kind != AeadKind.CCM:
        key = base64.b64decode(cli("export-key", "-k", "a").stdout)
        blob = base64.b64decode(sealed)
        impl = AESGCM(key) if kind == AeadKind.GCM else ChaCha20Poly1305(key)
        assert impl.decrypt(blob[:12], blob[12:], b"header") == b"secret text"


def test_mac(cli: Cli, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_MAC_COMPUTE)
    require_opcode(Opcode.PSA_MAC_VERIFY)
    cli("create-symmetric-key", "-k", "h", "-a", "hmac-sha256", "-x")
    assert cli.client().key_attributes("h").algorithm == MacAlg(MacKind.HMAC, Hash.SHA_256)
    tag = cli("mac", "-k", "h", "message").stdout.strip()
    key = base64.b64decode(cli("export-key", "-k", "h").stdout)
    assert base64.b64decode(tag) == hmac.new(key, b"message", "sha256").digest()
    assert cli("mac", "-k", "h", "message", "--verify", tag).stdout == "MAC is valid.\n"
    assert cli("mac", "-k", "h", "messagE", "--verify", tag, check=False).returncode == 10


def test_import_symmetric_key(cli: Cli, tmp_path: Path, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_AEAD_DECRYPT)
    key = AESGCM.generate_key(128)
    (tmp_path / "k.bin").write_bytes(key)
    cli("import-key", "-k", "imp", "--symmetric", "aes-gcm", str(tmp_path / "k.bin"))
    assert cli.client().key_attributes("imp").key_bits == 128
    blob = b"\x01" * 12 + AESGCM(key).encrypt(b"\x01" * 12, b"from outside", b"")
    sealed = base64.b64encode(blob).decode()
    assert cli("aead-decrypt", "-k", "imp", sealed).stdout == "from outside\n"


def test_export_key_pem(cli: Cli) -> None:
    cli("create-ecc-key", "-k", "x", "-x")
    pem = cli("export-key", "-k", "x").stdout
    priv = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    assert priv.public_key() == cli.client().public_key("x")
    raw = base64.b64decode(cli("export-key", "-k", "x", "--raw").stdout)
    assert int.from_bytes(raw, "big") == priv.private_numbers().private_value


def test_decrypt_prints_binary_plaintext_raw(cli: Cli, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_ASYMMETRIC_ENCRYPT)
    cli("create-rsa-key", "-k", "r", "-b", "1024")
    client = cli.client()
    ct = client.encrypt("r", b"\xff\x00\xfe")
    proc = subprocess.run([cli.exe, "--app-name", cli.app, "-q", "decrypt", "-k", "r",
                           base64.b64encode(ct).decode()], capture_output=True, env=cli.env)
    assert proc.returncode == 0 and proc.stdout == b"\xff\x00\xfe"


def test_labels_commands(cli: Cli) -> None:
    cli("create-ecc-key", "-k", "web")
    cli("create-ecc-key", "-k", "db")
    cli("label", "set", "-k", "web", "role=tls", "prod")
    cli("label", "set", "-k", "db", "role=storage")
    assert cli("label", "show", "-k", "web").lines == ["prod", "role=tls"]
    assert json.loads(cli("label", "show", "-k", "web", "--json").stdout) == \
        {"prod": "", "role": "tls"}
    assert cli("label", "find", "role").lines == ["db", "web"]
    assert cli("label", "find", "role=tls").lines == ["web"]
    assert json.loads(cli("label", "find", "prod", "--json").stdout) == ["web"]
    assert cli("list-keys", "-l", "role=tls").stdout.startswith("* web (")
    assert len(cli("list-keys", "--label", "role").lines) == 2
    data = {k["name"]: k["labels"] for k in json.loads(cli("list-keys", "--json").stdout)}
    assert data == {"web": {"prod": "", "role": "tls"}, "db": {"role": "storage"}}
    assert cli("label", "list").lines == ["* db: role=storage", "* web: prod role=tls"]
    cli("label", "remove", "-k", "web", "prod")
    assert cli("label", "show", "-k", "web").lines == ["role=tls"]
    cli("delete-key", "-k", "db")
    assert cli("label", "find", "role").lines == ["web"]
    missing = cli("label", "set", "-k", "nope", "a=b", check=False)
    assert missing.returncode == 6
    # The labels live in the user's data directory (XDG_DATA_HOME of the test).
    path = Path(cli.env["XDG_DATA_HOME"]) / "pqparsec" / "labels" / f"direct-{cli.app}.sqlite3"
    assert path.exists()
