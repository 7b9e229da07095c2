"""Real PKCS#11 applications load the module and use the service's keys: OpenSC's pkcs11-tool,
GnuTLS's p11tool, OpenSSL through libengine-pkcs11-openssl, and OpenSSH (ssh-keygen -D,
ssh-agent with ssh-add -s, ssh-keygen -Y sign/verify). Each test skips only when its program
is not installed."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from p11helpers import key_id, need, run
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)

SIGN = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
MESSAGE = b"signed through the PKCS#11 module\n"
ECDSA_ANY_HASH = SignAlg(SignKind.ECDSA, ANY_HASH)


def ec_key(client: BasicClient, name: str, alg: SignAlg = ECDSA_ANY_HASH,
           family: EccFamily = EccFamily.SECP_R1, bits: int = 256) -> None:
    client.generate_key(name, KeyAttributes(KeyType.ecc_key_pair(family), bits,
                                            KeyPolicy(SIGN, alg)))


def rsa_key(client: BasicClient, name: str, alg: SignAlg | EncryptAlg) -> None:
    usage = SIGN if isinstance(alg, SignAlg) else UsageFlags(encrypt=True, decrypt=True)
    client.generate_key(name, KeyAttributes(KeyType.rsa_key_pair(), 2048, KeyPolicy(usage, alg)))


def pem_of(client: BasicClient, name: str, path: Path) -> Path:
    path.write_text(client.public_key_pem(name))
    return path


# -- OpenSC pkcs11-tool ---------------------------------------------------------------------------


def pkcs11_tool(lib: Path, env: dict[str, str], *args: str, **kw: object) -> str:
    res = run([need("pkcs11-tool"), "--module", str(lib), *args], env, **kw)  # type: ignore[arg-type]
    return res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace")


def test_pkcs11_tool_lists_slots_mechanisms_objects(p11lib: Path, p11env: dict[str, str],
                                                    p11client: BasicClient) -> None:
    ec_key(p11client, "pt-list-ec")
    rsa_key(p11client, "pt-list-rsa", SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256))
    slots = pkcs11_tool(p11lib, p11env, "--list-slots")
    assert "token label        : pqparsec software" in slots
    assert "token model        : software" in slots
    mechs = pkcs11_tool(p11lib, p11env, "--list-mechanisms")
    for m in ("ECDSA-SHA256", "ECDSA,", "SHA256-RSA-PKCS,", "RSA-PKCS-PSS", "RSA-PKCS-OAEP",
              "ECDSA-KEY-PAIR-GEN", "RSA-PKCS-KEY-PAIR-GEN", "EDDSA"):
        assert m in mechs, m
    objects = pkcs11_tool(p11lib, p11env, "--list-objects")
    assert f"label:      pt-list-ec\n  ID:         {key_id('pt-list-ec')}" in objects
    assert "Private Key Object; RSA" in objects and "label:      pt-list-rsa" in objects
    assert "Allowed mechanisms: RSA-PKCS,SHA256-RSA-PKCS\n" in objects  # the policy's hash only
    assert "sensitive, always sensitive, never extractable" in objects


def test_pkcs11_tool_keypairgen_and_sign(p11lib: Path, p11env: dict[str, str],
                                         p11client: BasicClient, tmp_path: Path) -> None:
    openssl = need("openssl")
    pkcs11_tool(p11lib, p11env, "--keypairgen", "--key-type", "EC:prime256v1",
                "--label", "pt-gen-ec")
    pkcs11_tool(p11lib, p11env, "--keypairgen", "--key-type", "rsa:2048", "--label", "pt-gen-rsa")
    attrs = {k.name: k.attributes for k in p11client.list_keys()}
    assert attrs["pt-gen-ec"].algorithm == SignAlg(SignKind.ECDSA, ANY_HASH)
    assert attrs["pt-gen-ec"].key_bits == 256
    assert attrs["pt-gen-rsa"].algorithm == SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH)
    data = tmp_path / "data"
    data.write_bytes(MESSAGE)
    digest = tmp_path / "digest"
    digest.write_bytes(__import__("hashlib").sha256(MESSAGE).digest())
    sig = tmp_path / "sig"
    cases = [("pt-gen-ec", "ECDSA-SHA256", data, "sha256"),
             ("pt-gen-ec", "ECDSA-SHA384", data, "sha384"),
             ("pt-gen-ec", "ECDSA", digest, "sha256"),  # the caller's hash
             ("pt-gen-rsa", "SHA256-RSA-PKCS", data, "sha256"),
             ("pt-gen-rsa", "SHA512-RSA-PKCS", data, "sha512")]
    for name, mech, infile, md in cases:
        extra = ["--signature-format", "openssl"] if "ECDSA" in mech else []
        pkcs11_tool(p11lib, p11env, "--sign", "-m", mech, "--id", key_id(name), "-i", str(infile),
                    "-o", str(sig), *extra)
        pem = pem_of(p11client, name, tmp_path / f"{name}.pem")
        out = run([openssl, "dgst", f"-{md}", "-verify", str(pem), "-signature", str(sig),
                   str(data)], p11env)
        assert out.stdout == b"Verified OK\n", (mech, out)
    # pkcs11-tool verifies through the module too
    pkcs11_tool(p11lib, p11env, "--sign", "-m", "ECDSA-SHA256", "--id", key_id("pt-gen-ec"),
                "-i", str(data), "-o", str(sig))
    verified = pkcs11_tool(p11lib, p11env, "--verify", "-m", "ECDSA-SHA256", "--id",
                           key_id("pt-gen-ec"), "-i", str(data), "--signature-file", str(sig))
    assert "Signature is valid" in verified
    # a mechanism the key's policy does not permit
    refused = pkcs11_tool(p11lib, p11env, "--sign", "-m", "SHA256-RSA-PKCS-PSS", "--id",
                          key_id("pt-gen-rsa"), "-i", str(data), "-o", str(sig), check=False)
    assert "CKR_KEY_FUNCTION_NOT_PERMITTED" in refused


def test_pkcs11_tool_pss_oaep_eddsa(p11lib: Path, p11env: dict[str, str],
                                    p11client: BasicClient, tmp_path: Path) -> None:
    openssl = need("openssl")
    rsa_key(p11client, "pt-pss", SignAlg(SignKind.RSA_PSS, ANY_HASH))
    rsa_key(p11client, "pt-oaep", EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256))
    ec_key(p11client, "pt-ed", SignAlg(SignKind.PURE_EDDSA), EccFamily.TWISTED_EDWARDS, 255)
    data, sig = tmp_path / "data", tmp_path / "sig"
    data.write_bytes(MESSAGE)
    pkcs11_tool(p11lib, p11env, "--sign", "-m", "SHA256-RSA-PKCS-PSS", "--id", key_id("pt-pss"),
                "-i", str(data), "-o", str(sig))
    pem = pem_of(p11client, "pt-pss", tmp_path / "pss.pem")
    out = run([openssl, "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt",
               "rsa_pss_saltlen:32", "-verify", str(pem), "-signature", str(sig), str(data)],
              p11env)
    assert out.stdout == b"Verified OK\n"
    # OAEP: encrypted by openssl with the public key, decrypted by the service
    pem = pem_of(p11client, "pt-oaep", tmp_path / "oaep.pem")
    enc = tmp_path / "enc"
    run([openssl, "pkeyutl", "-encrypt", "-pubin", "-inkey", str(pem), "-pkeyopt",
         "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt",
         "rsa_mgf1_md:sha256", "-in", str(data), "-out", str(enc)], p11env)
    res = run([need("pkcs11-tool"), "--module", str(p11lib), "--decrypt", "-m", "RSA-PKCS-OAEP",
               "--hash-algorithm", "SHA256", "--mgf", "MGF1-SHA256", "--id", key_id("pt-oaep"),
               "-i", str(enc)], p11env)
    assert res.stdout == MESSAGE
    # EdDSA (the service's Ed25519 extension). Destroyed afterwards: the OpenSSL engine of
    # Debian 12 (libp11 0.4.12) cannot enumerate a token that holds an Ed25519 key.
    try:
        pkcs11_tool(p11lib, p11env, "--sign", "-m", "EDDSA", "--id", key_id("pt-ed"),
                    "-i", str(data), "-o", str(sig))
        pub = p11client.public_key("pt-ed")
        assert isinstance(pub, ed25519.Ed25519PublicKey)
        pub.verify(sig.read_bytes(), MESSAGE)
    finally:
        p11client.destroy_key("pt-ed")


def test_pkcs11_tool_test_passes(p11lib: Path, p11env: dict[str, str], tmp_path: Path) -> None:
    """`pkcs11-tool --test` on an application whose keys fit its tests (an EC key and an RSA
    signing key). This service runs the Direct authenticator: the module takes the application
    name from PQPARSEC_P11_APP_NAME."""
    need("pkcs11-tool")
    svc = ServiceProcess(str(tmp_path / "svc"), auth_type="Direct")
    os.makedirs(svc.tmp)
    svc.start()
    try:
        env = {**p11env, "PARSEC_SERVICE_ENDPOINT": svc.endpoint,
               "PQPARSEC_P11_APP_NAME": "pkcs11-tool-test"}
        pkcs11_tool(p11lib, env, "--keypairgen", "--key-type", "EC:prime256v1", "--label", "t-ec")
        pkcs11_tool(p11lib, env, "--keypairgen", "--key-type", "rsa:2048", "--label", "t-rsa")
        assert sorted(k.name for k in svc.client("pkcs11-tool-test").list_keys()) == \
            ["t-ec", "t-rsa"]
        assert svc.client("someone-else").list_keys() == []
        out = pkcs11_tool(p11lib, env, "--test", "--login", "--pin", "any-pin")
        assert "No errors" in out, out
        assert re.search(r"RSA-PKCS: OK", out), out
    finally:
        svc.stop()


# -- GnuTLS p11tool ---------------------------------------------------------------------------------


def test_p11tool(p11lib: Path, p11env: dict[str, str], p11client: BasicClient,
                 tmp_path: Path) -> None:
    p11tool = need("p11tool")
    ec_key(p11client, "gt-ec")
    rsa_key(p11client, "gt-rsa", SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH))
    prov = ["--provider", str(p11lib)]
    tokens = run([p11tool, *prov, "--list-tokens"], p11env).stdout.decode()
    assert "Label: pqparsec software" in tokens and "Model: software" in tokens
    url = "pkcs11:token=pqparsec%20software"
    listed = run([p11tool, *prov, "--list-all", url], p11env).stdout.decode()
    assert "object=gt-ec;type=private" in listed and "object=gt-rsa;type=public" in listed
    exported = run([p11tool, *prov, "--export-pubkey", f"{url};object=gt-ec;type=public"],
                   p11env).stdout.decode()
    assert exported.strip() == p11client.public_key_pem("gt-ec").strip()
    env = {**p11env, "GNUTLS_PIN": "any"}
    for name in ("gt-ec", "gt-rsa"):
        out = run([p11tool, *prov, "--test-sign", f"{url};object={name};type=private"], env)
        text = out.stdout.decode() + out.stderr.decode()
        assert "Verifying against public key in the token... ok" in text, text


# -- OpenSSL with libengine-pkcs11-openssl -------------------------------------------------------


def engine_conf(tmp_path: Path, lib: Path, env: dict[str, str]) -> dict[str, str]:
    openssl = need("openssl")
    version = run([openssl, "version", "-e"], env).stdout.decode()
    match = re.search(r'ENGINESDIR: "([^"]+)"', version)
    engine = Path(match.group(1)) / "pkcs11.so" if match else None
    if engine is None or not engine.exists():
        pytest.skip("the OpenSSL pkcs11 engine is not installed (Debian package "
                    "libengine-pkcs11-openssl)")
    conf = tmp_path / "openssl.cnf"
    conf.write_text(f"""openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = {engine}
MODULE_PATH = {lib}
init = 0
[req]
distinguished_name = dn
[dn]
""")
    return {**env, "OPENSSL_CONF": str(conf)}


def test_openssl_engine_pkeyutl_and_csr(p11lib: Path, p11env: dict[str, str],
                                        p11client: BasicClient, tmp_path: Path) -> None:
    env = engine_conf(tmp_path, p11lib, p11env)
    openssl = need("openssl")
    ec_key(p11client, "os-ec")
    rsa_key(p11client, "os-rsa", SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH))
    digest, sig = tmp_path / "digest", tmp_path / "sig"
    digest.write_bytes(__import__("hashlib").sha256(MESSAGE).digest())
    for name in ("os-ec", "os-rsa"):
        run([openssl, "pkeyutl", "-engine", "pkcs11", "-keyform", "engine", "-sign", "-inkey",
             f"pkcs11:object={name};type=private", "-in", str(digest), "-out", str(sig)]
            + (["-pkeyopt", "digest:sha256"] if name == "os-rsa" else []), env)
        pem = pem_of(p11client, name, tmp_path / f"{name}.pem")
        out = run([openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-in",
                   str(digest), "-sigfile", str(sig)]
                  + (["-pkeyopt", "digest:sha256"] if name == "os-rsa" else []), p11env)
        assert b"Signature Verified Successfully" in out.stdout, name
        csr = tmp_path / f"{name}.csr"
        run([openssl, "req", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key",
             f"pkcs11:object={name};type=private", "-subj", f"/CN={name}", "-out", str(csr)], env)
        out = run([openssl, "req", "-verify", "-noout", "-in", str(csr)], p11env)
        assert b"verify OK" in out.stdout + out.stderr
        # the CSR carries the service key
        spki = run([openssl, "req", "-in", str(csr), "-noout", "-pubkey"], p11env).stdout
        assert spki.decode().strip() == p11client.public_key_pem(name).strip()


# -- OpenSSH ------------------------------------------------------------------------------------------


def ssh_public(client: BasicClient, name: str) -> str:
    return client.public_key(name).public_bytes(serialization.Encoding.OpenSSH,
                                                serialization.PublicFormat.OpenSSH).decode()


def test_ssh_keygen_lists_service_keys(p11lib: Path, p11env: dict[str, str],
                                       p11client: BasicClient) -> None:
    ssh_keygen = need("ssh-keygen")
    ec_key(p11client, "ssh-list-ec")
    rsa_key(p11client, "ssh-list-rsa", SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH))
    out = run([ssh_keygen, "-D", str(p11lib)], p11env).stdout.decode()
    assert f"{ssh_public(p11client, 'ssh-list-ec')} ssh-list-ec" in out.splitlines()
    assert f"{ssh_public(p11client, 'ssh-list-rsa')} ssh-list-rsa" in out.splitlines()


def test_ssh_agent_signs_with_a_service_key(p11lib: Path, p11env: dict[str, str],
                                            p11client: BasicClient, tmp_path: Path) -> None:
    ssh_keygen, ssh_agent, ssh_add = need("ssh-keygen"), need("ssh-agent"), need("ssh-add")
    ec_key(p11client, "ssh-agent-ec")
    rsa_key(p11client, "ssh-agent-rsa", SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH))
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen([ssh_agent, "-D", "-a", str(sock), "-P", str(p11lib)], env=p11env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        env = {**p11env, "SSH_AUTH_SOCK": str(sock)}
        for _ in range(100):
            if sock.exists():
                break
            __import__("time").sleep(0.05)
        run([ssh_add, "-s", str(p11lib)], env, input=b"\n")  # the "PIN": anything
        keys = run([ssh_add, "-L"], env).stdout.decode().splitlines()
        for name in ("ssh-agent-ec", "ssh-agent-rsa"):  # ECDSA; RSA (rsa-sha2-512)
            pub = ssh_public(p11client, name)
            assert f"{pub} {name}" in keys
            pub_file, data = tmp_path / f"{name}.pub", tmp_path / f"{name}.data"
            pub_file.write_text(pub + "\n")
            data.write_bytes(MESSAGE)
            run([ssh_keygen, "-Y", "sign", "-f", str(pub_file), "-n", "file", str(data)], env)
            allowed = tmp_path / "allowed"
            allowed.write_text(f"someone {pub}\n")
            out = run([ssh_keygen, "-Y", "verify", "-f", str(allowed), "-I", "someone", "-n",
                       "file", "-s", f"{data}.sig"], env, input=MESSAGE)
            text = out.stdout.decode() + out.stderr.decode()
            assert "Good \"file\" signature for someone" in text, (name, text)
            bad = run([ssh_keygen, "-Y", "verify", "-f", str(allowed), "-I", "someone", "-n",
                       "file", "-s", f"{data}.sig"], env, input=MESSAGE + b"x", check=False)
            assert bad.returncode != 0
    finally:
        agent.terminate()
        agent.wait(10)
