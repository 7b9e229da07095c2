"""Known-answer tests through the service, from published vectors.

`cryptography-vectors` (the dev extra) ships NIST CAVP and RSA Laboratories files, the RFC 6979,
RFC 7027 and RFC 7748 examples; tests/providers/data/asymmetric has the finite-field DH answers
made with the openssl command line. Each file contributes a bounded number of vectors so the
suite stays fast. Keys are imported; the service verifies, signs deterministically, decrypts or
agrees, and the answer must be the published one (failing vectors must fail)."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from capabilities import Pinned
from capabilities.needs import Need, Needs, assert_refused, imports
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
    Algorithm,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

vectors = pytest.importorskip("cryptography_vectors", reason="install the dev extra (cryptography-vectors)")

DATA = Path(__file__).parent / "data" / "asymmetric"
_names = itertools.count()

HASHES = {"SHA1": Hash.SHA_1, "SHA-1": Hash.SHA_1, "SHA224": Hash.SHA_224, "SHA-224": Hash.SHA_224,
          "SHA256": Hash.SHA_256, "SHA-256": Hash.SHA_256, "SHA384": Hash.SHA_384, "SHA-384": Hash.SHA_384,
          "SHA512": Hash.SHA_512, "SHA-512": Hash.SHA_512}
HASHLIB = {Hash.SHA_1: "sha1", Hash.SHA_224: "sha224", Hash.SHA_256: "sha256", Hash.SHA_384: "sha384",
           Hash.SHA_512: "sha512"}
NIST_CURVES = {"P-192": 192, "P-224": 224, "P-256": 256, "P-384": 384, "P-521": 521}
SIGN_FLAGS = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
ECDH = KeyAgreementAlg(RawKeyAgreement.ECDH)


def open_vector(path: str) -> IO[str]:
    opened: IO[str] = vectors.open_vector_file(path, "r")
    return opened


def attrs(kt: KeyType, alg: Algorithm, flags: UsageFlags, bits: int = 0) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(flags, alg))


def imported(client: BasicClient, a: KeyAttributes, data: bytes) -> str:
    k = f"kat-{next(_names)}"
    client.import_key(k, a, data)
    return k


def point(x: str, y: str, n: int) -> bytes:
    """An uncompressed point from hex coordinates."""
    return b"\x04" + int(x, 16).to_bytes(n, "big") + int(y, 16).to_bytes(n, "big")


def digest(h: Hash, data: bytes) -> bytes:
    return hashlib.new(HASHLIB[h], data).digest()


# What the tests need of a provider (capabilities/needs.py). A test that loops over vectors runs
# for the providers whose pinned table has at least one vector's key (NEEDS.any_of) and takes
# the vectors the table has (`table.can`); test_unsupported_needs_are_refused checks that the
# service refuses the others' keys.
NEEDS = Needs()
VERIFYING = (Opcode.PSA_IMPORT_KEY, Opcode.PSA_VERIFY_HASH)
SIGNING = (Opcode.PSA_IMPORT_KEY, Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH)
DECRYPTING = (Opcode.PSA_IMPORT_KEY, Opcode.PSA_ASYMMETRIC_DECRYPT)
AGREEING = (Opcode.PSA_IMPORT_KEY, Opcode.PSA_RAW_KEY_AGREEMENT, Opcode.PSA_EXPORT_PUBLIC_KEY)
IMPORT = CheckType.IMPORT
RSA, RSA_PUB = KeyType.rsa_key_pair(), KeyType.rsa_public_key()
P_PUB = KeyType.ecc_public_key(EccFamily.SECP_R1)
P_PAIR = KeyType.ecc_key_pair(EccFamily.SECP_R1)
# RSA Laboratories' keys: 1024 to 1031, 1536 and 2048 bits.
RSA_LABS_BITS = (*range(1024, 1032), 1536, 2048)


def rsa_size_needs(kt: KeyType, alg: Algorithm, *ops: Opcode) -> list[Need]:
    """An RSA key of each of RSA Laboratories' sizes, and the algorithm on a 2048-bit one."""
    return [imports(kt, 2048, alg, *ops), *(imports(kt, b) for b in RSA_LABS_BITS)]


def rsa_takes(table: Pinned, kt: KeyType, bits: int, alg: Algorithm) -> bool:
    """Does the pinned table have this key: its size, and the algorithm on a key of its type?"""
    return table.can(IMPORT, kt, bits) and table.can(IMPORT, kt, 2048, alg)


# ------------------------------------------------------------------------------------------------
# Vector file readers


def nist_records(f: IO[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """NIST CAVP .rsp/.fax/.txt: [section] headers and blank-line separated `key = value` records."""
    section, record = "", dict[str, str]()
    for raw in f:
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("["):
            if record:
                yield section, record
                record = {}
            if line.startswith("["):
                section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        record[key.strip()] = value.strip()
    if record:
        yield section, record


def rsa_labs_examples(f: IO[str]) -> list[tuple[dict[str, int], list[dict[str, bytes]]]]:
    """RSA Laboratories' PKCS #1 vector layout: '# Label:' lines followed by hex, keys opened by
    '# Example', one dict of byte strings per example."""
    keys: list[tuple[dict[str, int], list[dict[str, bytes]]]] = []
    label: str | None = None
    values: dict[str, list[str]] = {}
    seen_public_exponent = False

    def flush() -> None:
        nonlocal label
        if label is None or not keys:
            label = None
            return
        hexdata = "".join(values.pop(label, []))
        key, examples = keys[-1]
        if label == "Modulus":
            key["n"] = int(hexdata, 16)
        elif label == "Public exponent":
            key["e"] = int(hexdata, 16)
        elif label == "Exponent":
            key["d" if seen_public_exponent else "e"] = int(hexdata, 16)
        elif label == "Prime 1":
            key["p"] = int(hexdata, 16)
        elif label == "Prime 2":
            key["q"] = int(hexdata, 16)
        elif label in ("Message to be signed", "Message"):
            examples.append({"message": bytes.fromhex(hexdata)})
        elif label in ("Signature", "Encryption", "Salt", "Seed") and examples:
            examples[-1][label.lower()] = bytes.fromhex(hexdata)
        label = None

    for raw in f:
        line = raw.strip()
        if line.startswith("#"):
            flush()
            text = line.lstrip("#").strip()
            if text.startswith("Example"):
                keys.append(({}, []))
                seen_public_exponent = False
            elif text.endswith(":"):
                label = text[:-1]
                if label == "Public exponent":
                    seen_public_exponent = True
                values[label] = []
            continue
        if label is not None and line:
            values[label].append(line.replace(" ", ""))
    flush()
    return keys


def rsa_private_der(n: int, e: int, d: int, p: int, q: int) -> bytes:
    nums = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                 rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n))
    return nums.private_key().private_bytes(serialization.Encoding.DER,
                                            serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption())


def rsa_public_der(n: int, e: int) -> bytes:
    return rsa.RSAPublicNumbers(e, n).public_key().public_bytes(serialization.Encoding.DER,
                                                                 serialization.PublicFormat.PKCS1)


# ------------------------------------------------------------------------------------------------
# ECDSA


def _ecdsa_sigver() -> list[tuple[str, Hash, dict[str, str]]]:
    out: list[tuple[str, Hash, dict[str, str]]] = []
    counts: dict[str, int] = {}
    with open_vector("asymmetric/ECDSA/FIPS_186-3/SigVer.rsp") as f:
        for section, rec in nist_records(f):
            curve, _, sha = section.partition(",")
            if curve not in NIST_CURVES or "Msg" not in rec:
                continue
            counts[section] = counts.get(section, 0) + 1
            if counts[section] <= 5:
                out.append((curve, HASHES[sha], rec))
    return out


@NEEDS.any_of(*(imports(P_PUB, b, SignAlg(SignKind.ECDSA, h), *VERIFYING)
                for b in NIST_CURVES.values() for h in set(HASHES.values())))
def test_ecdsa_nist_sigver(client: BasicClient, table: Pinned) -> None:
    """NIST CAVP ECDSA SigVer (FIPS 186-3): 5 vectors for each of P-192..P-521 x SHA-1..SHA-512."""
    cases = _ecdsa_sigver()
    assert len(cases) == 125
    checked = 0
    for curve, h, rec in cases:
        bits = NIST_CURVES[curve]
        n = (bits + 7) // 8
        alg = SignAlg(SignKind.ECDSA, h)
        a = attrs(P_PUB, SignAlg(SignKind.ECDSA, ANY_HASH), UsageFlags(verify_hash=True), bits)
        if not table.can(IMPORT, P_PUB, bits, alg):
            continue
        point = b"\x04" + int(rec["Qx"], 16).to_bytes(n, "big") + int(rec["Qy"], 16).to_bytes(n, "big")
        sig = int(rec["R"], 16).to_bytes(n, "big") + int(rec["S"], 16).to_bytes(n, "big")
        passed = rec["Result"].startswith("P")
        try:
            k = imported(client, a, point)
        except ServiceError as exc:  # a changed Q may not be on the curve at all
            assert not passed and exc.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
            continue
        hashed = digest(h, bytes.fromhex(rec["Msg"]))
        if passed:
            client.verify_hash(k, alg, hashed, sig)
        else:
            assert status(client.verify_hash, k, alg, hashed, sig) == \
                ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
        checked += 1
    assert checked


@NEEDS.test(imports(KeyType.ecc_public_key(EccFamily.SECP_K1), 256, SignAlg(SignKind.ECDSA, ANY_HASH),
                    *VERIFYING, Opcode.PSA_EXPORT_PUBLIC_KEY),
            imports(KeyType.ecc_key_pair(EccFamily.SECP_K1), 256, SignAlg(SignKind.ECDSA, ANY_HASH)))
def test_ecdsa_secp256k1(client: BasicClient) -> None:
    """secp256k1 signatures (cryptography-vectors' SigGen for K-256): verified on the public key;
    the private key then signs, and its public key must be the published Q."""
    a = attrs(KeyType.ecc_public_key(EccFamily.SECP_K1), SignAlg(SignKind.ECDSA, ANY_HASH),
              UsageFlags(verify_hash=True), 256)
    with open_vector("asymmetric/ECDSA/SECP256K1/SigGen.txt") as f:
        recs = [(s, r) for s, r in nist_records(f) if "Msg" in r][:10]
    assert len(recs) == 10
    for section, rec in recs:
        h = HASHES[section.split(",")[1]]
        point = b"\x04" + bytes.fromhex(rec["Qx"].rjust(64, "0")) + bytes.fromhex(rec["Qy"].rjust(64, "0"))
        sig = int(rec["R"], 16).to_bytes(32, "big") + int(rec["S"], 16).to_bytes(32, "big")
        k = imported(client, a, point)
        hashed = digest(h, bytes.fromhex(rec["Msg"]))
        client.verify_hash(k, SignAlg(SignKind.ECDSA, h), hashed, sig)
        bad = sig[:32] + (int(rec["S"], 16) ^ 1).to_bytes(32, "big")
        assert status(client.verify_hash, k, SignAlg(SignKind.ECDSA, h), hashed, bad) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
        pair = attrs(KeyType.ecc_key_pair(EccFamily.SECP_K1), SignAlg(SignKind.ECDSA, ANY_HASH), SIGN_FLAGS)
        kp = imported(client, pair, int(rec["d"], 16).to_bytes(32, "big"))
        assert client.export_public_key(kp) == point


def _rfc6979() -> list[tuple[str, Hash, bytes, bytes, bytes]]:
    """(curve, hash, private scalar, input, DER signature) for the P- curves."""
    keys_pem: dict[str, str] = {}
    out = []
    with open_vector("asymmetric/ECDSA/RFC6979/evppkey_ecdsa_rfc6979.txt") as f:
        lines = iter(f.read().splitlines())
    block: dict[str, str] = {}
    for line in itertools.chain(lines, [""]):
        if line.startswith("PrivateKey="):
            pem = []
            for pem_line in lines:
                pem.append(pem_line)
                if pem_line.startswith("-----END"):
                    break
            keys_pem[line.split("=", 1)[1].strip()] = "\n".join(pem)
            continue
        if not line.strip():
            if "DigestSign" in block and block.get("Key", "").startswith("P-"):
                key = serialization.load_pem_private_key(keys_pem[block["Key"]].encode(), None)
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                n = (key.curve.key_size + 7) // 8
                out.append((block["Key"].split("_")[0], HASHES[block["DigestSign"]],
                            key.private_numbers().private_value.to_bytes(n, "big"),
                            block["Input"].strip('"').encode(), bytes.fromhex(block["Output"])))
            block = {}
            continue
        if "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            block[k.strip()] = v.strip()
    return out


@NEEDS.any_of(*(imports(P_PAIR, 0, SignAlg(SignKind.DETERMINISTIC_ECDSA, h), Opcode.PSA_IMPORT_KEY,
                        Opcode.PSA_SIGN_MESSAGE, Opcode.PSA_SIGN_HASH) for h in set(HASHES.values())))
def test_deterministic_ecdsa_rfc6979(client: BasicClient, table: Pinned) -> None:
    """RFC 6979 appendix A.2 answers for P-192..P-521 with SHA-1..SHA-512, messages "sample" and
    "test": deterministic ECDSA must produce exactly the published signature."""
    cases = _rfc6979()
    assert len(cases) == 50
    imported_keys: dict[tuple[str, Hash], str] = {}
    checked = 0
    for curve, h, scalar, message, der in cases:
        alg = SignAlg(SignKind.DETERMINISTIC_ECDSA, h)
        a = attrs(P_PAIR, alg, SIGN_FLAGS)
        if not table.can(IMPORT, P_PAIR, 0, alg):
            continue
        if (curve, h) not in imported_keys:
            imported_keys[(curve, h)] = imported(client, a, scalar)
        k = imported_keys[(curve, h)]
        n = len(scalar)
        r, s = decode_dss_signature(der)
        expected = r.to_bytes(n, "big") + s.to_bytes(n, "big")
        assert client.sign_message(k, alg, message) == expected, (curve, h, message)
        assert client.sign_hash(k, alg, digest(h, message)) == expected
        checked += 1
    assert checked


# ------------------------------------------------------------------------------------------------
# RSA signatures


@NEEDS.any_of(*(imports(RSA_PUB, b, SignAlg(SignKind.RSA_PKCS1V15_SIGN, h), *VERIFYING)
                for b in (1024, 1536, 2048, 3072, 4096) for h in set(HASHES.values())))
def test_rsa_pkcs1_nist_sigver(client: BasicClient, table: Pinned) -> None:
    """NIST CAVP RSA PKCS#1 v1.5 SigVer (FIPS 186-3): 4 vectors per modulus size x hash."""
    policy = SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH)
    counts: dict[tuple[str, str], int] = {}
    n = 0
    checked = 0
    with open_vector("asymmetric/RSA/FIPS_186-2/SigVer15_186-3.rsp") as f:
        for section, rec in nist_records(f):
            if "n" in rec:
                n = int(rec["n"], 16)
            if "SHAAlg" not in rec:
                continue
            group = (section, rec["SHAAlg"])
            counts[group] = counts.get(group, 0) + 1
            if counts[group] > 4:
                continue
            a = attrs(RSA_PUB, policy, UsageFlags(verify_hash=True), n.bit_length())
            h = HASHES[rec["SHAAlg"]]
            alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, h)
            if not table.can(IMPORT, RSA_PUB, a.key_bits, alg):
                continue
            k = imported(client, a, rsa_public_der(n, int(rec["e"], 16)))
            hashed = digest(h, bytes.fromhex(rec["Msg"]))
            sig = bytes.fromhex(rec["S"])
            if rec["Result"].startswith("P"):
                client.verify_hash(k, alg, hashed, sig)
            else:
                assert status(client.verify_hash, k, alg, hashed, sig) == \
                    ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
            checked += 1
    assert len(counts) == 25
    assert checked


SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")


SHA1_SIGN = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_1)
RAW_SIGN = SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW)


NEEDS.note(*rsa_size_needs(RSA, RAW_SIGN, *SIGNING))


@NEEDS.any_of(*rsa_size_needs(RSA, SHA1_SIGN, *SIGNING))
def test_rsa_pkcs1_sign_known_answers(client: BasicClient, table: Pinned) -> None:
    """RSA Laboratories' PKCS#1 v1.5 signature examples (SHA-1; 1024-, 1025-, 1536-, 2048-bit
    keys): signing is deterministic, so the service must give the published signature, with the
    hash scheme and, where the provider has it, raw PKCS#1 v1.5 over DigestInfo || hash."""
    with open_vector("asymmetric/RSA/pkcs1v15sign-vectors.txt") as f:
        examples = rsa_labs_examples(f)
    assert len(examples) == 15
    sha1, raw = SHA1_SIGN, RAW_SIGN
    checked = 0
    for key, sigs in (examples[0], examples[6], examples[13], examples[14]):
        der = rsa_private_der(key["n"], key["e"], key["d"], key["p"], key["q"])
        bits = key["n"].bit_length()
        if not rsa_takes(table, RSA, bits, sha1):
            continue
        k = imported(client, attrs(RSA, sha1, SIGN_FLAGS), der)
        kr = imported(client, attrs(RSA, raw, SIGN_FLAGS), der) \
            if rsa_takes(table, RSA, bits, raw) else None
        checked += 1
        for ex in sigs[:5]:
            hashed = digest(Hash.SHA_1, ex["message"])
            assert client.sign_hash(k, sha1, hashed) == ex["signature"]
            client.verify_hash(k, sha1, hashed, ex["signature"])
            if kr is not None:
                assert client.sign_hash(kr, raw, SHA1_DIGEST_INFO + hashed) == ex["signature"]
                client.verify_hash(kr, raw, SHA1_DIGEST_INFO + hashed, ex["signature"])
    assert checked



@NEEDS.any_of(*rsa_size_needs(RSA_PUB, SignAlg(SignKind.RSA_PSS, Hash.SHA_1), *VERIFYING))
def test_rsa_pss_verify_known_answers(client: BasicClient, table: Pinned) -> None:
    """RSA Laboratories' RSASSA-PSS examples (SHA-1, MGF1-SHA-1, 20-byte salt = the hash length,
    as PSA_ALG_RSA_PSS requires): 3 per key, for 10 keys of 1024 to 2048 bits."""
    with open_vector("asymmetric/RSA/pkcs-1v2-1d2-vec/pss-vect.txt") as f:
        examples = rsa_labs_examples(f)
    assert len(examples) == 10
    alg = SignAlg(SignKind.RSA_PSS, Hash.SHA_1)
    checked = 0
    for key, sigs in examples:
        a = attrs(RSA_PUB, alg, UsageFlags(verify_hash=True))
        if not rsa_takes(table, RSA_PUB, key["n"].bit_length(), alg):
            continue
        k = imported(client, a, rsa_public_der(key["n"], key["e"]))
        for ex in sigs[:3]:
            assert len(ex["salt"]) == 20
            hashed = digest(Hash.SHA_1, ex["message"])
            client.verify_hash(k, alg, hashed, ex["signature"])
            bad = bytearray(ex["signature"])
            bad[10] ^= 0x40
            assert status(client.verify_hash, k, alg, hashed, bytes(bad)) == \
                ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
            checked += 1
    assert checked


def dataclass_bits(a: KeyAttributes, bits: int) -> KeyAttributes:
    return KeyAttributes(a.key_type, bits, a.policy)


# ------------------------------------------------------------------------------------------------
# RSA decryption


def _decrypt_known_answers(client: BasicClient, table: Pinned,
                           examples: list[tuple[dict[str, int], list[dict[str, bytes]]]],
                           alg: EncryptAlg, per_key: int) -> int:
    checked = 0
    for key, cases in examples:
        a = attrs(RSA, alg, UsageFlags(decrypt=True))
        if not rsa_takes(table, RSA, key["n"].bit_length(), alg):
            continue
        k = imported(client, a, rsa_private_der(key["n"], key["e"], key["d"], key["p"], key["q"]))
        for ex in cases[:per_key]:
            assert client.asymmetric_decrypt(k, alg, ex["encryption"]) == ex["message"]
            bad = bytearray(ex["encryption"])
            bad[-1] ^= 1
            assert status(client.asymmetric_decrypt, k, alg, bytes(bad)) == \
                ResponseStatus.PSA_ERROR_INVALID_PADDING
            checked += 1
    return checked


OAEP_SHA1 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1)
PKCS1_CRYPT = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)


@NEEDS.any_of(*rsa_size_needs(RSA, OAEP_SHA1, *DECRYPTING))
def test_rsa_oaep_sha1_decrypt_known_answers(client: BasicClient, table: Pinned) -> None:
    """RSA Laboratories' RSAES-OAEP examples (SHA-1): all 6 messages of all 10 keys."""
    with open_vector("asymmetric/RSA/pkcs-1v2-1d2-vec/oaep-vect.txt") as f:
        examples = rsa_labs_examples(f)
    assert len(examples) == 10
    assert _decrypt_known_answers(client, table, examples, OAEP_SHA1, 6)


@NEEDS.cases("h", [Hash.SHA_224, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512],
             lambda h: [imports(RSA, 2048, EncryptAlg(EncryptKind.RSA_OAEP, h), *DECRYPTING)])
def test_rsa_oaep_sha2_decrypt_known_answers(client: BasicClient, table: Pinned, h: Hash) -> None:
    """cryptography's OAEP SHA-2 vectors (label hash = MGF1 hash, as PSA defines OAEP): the
    first 4 messages of each of the 10 keys (all of 2048 bits)."""
    name = HASHLIB[h]
    with open_vector(f"asymmetric/RSA/oaep-custom/oaep-{name}-{name}.txt") as f:
        examples = rsa_labs_examples(f)
    assert len(examples) == 10
    assert _decrypt_known_answers(client, table, examples, EncryptAlg(EncryptKind.RSA_OAEP, h), 4)


@NEEDS.any_of(*rsa_size_needs(RSA, PKCS1_CRYPT, *DECRYPTING))
def test_rsa_pkcs1_decrypt_known_answers(client: BasicClient, table: Pinned) -> None:
    """RSA Laboratories' RSAES-PKCS1-v1_5 examples: 5 messages of keys 1 (1024 bits), 7 (1030)
    and 15 (2048)."""
    with open_vector("asymmetric/RSA/pkcs1v15crypt-vectors.txt") as f:
        examples = rsa_labs_examples(f)
    assert len(examples) == 15
    chosen = [examples[0], examples[6], examples[14]]
    assert _decrypt_known_answers(client, table, chosen, PKCS1_CRYPT, 5)


# ------------------------------------------------------------------------------------------------
# Key agreement

KAS_CURVES = {"EA": "P-192", "EB": "P-224", "EC": "P-256", "ED": "P-384", "EE": "P-521"}


@NEEDS.any_of(*(imports(P_PAIR, b, ECDH, *AGREEING) for b in NIST_CURVES.values()))
def test_ecdh_nist_kas(client: BasicClient, table: Pinned) -> None:
    """NIST CAVP KAS ECC CDH primitive validity vectors (P-192..P-521, all 150): for a passing
    vector our imported private key must have the published public key, and agreement with the
    peer's key must give Z; failing vectors have an invalid peer key (refused), a changed private
    key (another public key) or a changed Z."""
    checked = 0
    with open_vector("asymmetric/ECDH/KASValidityTest_ECCStaticUnified_NOKC_ZZOnly_init.fax") as f:
        records = [(s, r) for s, r in nist_records(f) if "dsIUT" in r]
    assert len(records) == 150
    for section, rec in records:
        bits = NIST_CURVES[KAS_CURVES[section.split(" ")[0]]]
        n = (bits + 7) // 8
        a = attrs(P_PAIR, ECDH, UsageFlags(derive=True), bits)
        if not table.can(IMPORT, P_PAIR, bits, ECDH):
            continue
        try:
            k = imported(client, a, int(rec["dsIUT"], 16).to_bytes(n, "big"))
        except ServiceError as exc:  # a changed private key may be out of range
            assert exc.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
            assert rec["Result"].startswith("F"), rec
            continue
        ours = point(rec["QsIUTx"], rec["QsIUTy"], n)
        peer = point(rec["QsCAVSx"], rec["QsCAVSy"], n)
        try:
            z = client.raw_key_agreement(RawKeyAgreement.ECDH, k, peer)
        except ServiceError as exc:
            assert exc.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
            assert rec["Result"].startswith("F"), rec
            continue
        consistent = z == int(rec["Z"], 16).to_bytes(n, "big") and client.export_public_key(k) == ours
        assert consistent == rec["Result"].startswith("P"), rec
        checked += 1
    assert checked


@NEEDS.test(*(imports(KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), b, ECDH, *AGREEING)
              for b in (256, 384, 512)))
def test_ecdh_brainpool_rfc7027(client: BasicClient) -> None:
    """RFC 7027 brainpoolP256r1/P384r1/P512r1 ECDH examples, from both sides."""
    with open_vector("asymmetric/ECDH/brainpool.txt") as f:
        records = [r for _, r in nist_records(f) if "dA" in r]
    assert len(records) == 3
    for rec in records:
        bits = int(re.findall(r"\d+", rec["curve"])[0])
        n = bits // 8
        a = attrs(KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), ECDH, UsageFlags(derive=True), bits)
        for me, other in (("A", "B"), ("B", "A")):
            k = imported(client, a, bytes.fromhex(rec[f"d{me}"]))
            peer = b"\x04" + bytes.fromhex(rec[f"x_q{other}"]) + bytes.fromhex(rec[f"y_q{other}"])
            assert client.export_public_key(k) == b"\x04" + bytes.fromhex(rec[f"x_q{me}"]) + \
                bytes.fromhex(rec[f"y_q{me}"])
            assert client.raw_key_agreement(RawKeyAgreement.ECDH, k, peer) == bytes.fromhex(rec["x_Z"])
            assert len(bytes.fromhex(rec["x_Z"])) == n


@NEEDS.cases("path, size", [("asymmetric/X25519/rfc7748.txt", 32), ("asymmetric/X448/rfc7748.txt", 56)],
             lambda c: [imports(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 255 if c[1] == 32 else 448,
                                ECDH, Opcode.PSA_IMPORT_KEY, Opcode.PSA_RAW_KEY_AGREEMENT)],
             ids=["X25519", "X448"])
def test_montgomery_rfc7748(client: BasicClient, path: str, size: int) -> None:
    """RFC 7748 section 5.2 X25519 / X448 function examples: scalar (imported as our key) and
    peer u-coordinate give the published output."""
    a = attrs(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), ECDH, UsageFlags(derive=True))
    with open_vector(path) as f:
        records = [r for _, r in nist_records(f) if "INPUT_SCALAR" in r]
    assert len(records) == 3
    for rec in records:
        k = imported(client, a, bytes.fromhex(rec["INPUT_SCALAR"]))
        out = client.raw_key_agreement(RawKeyAgreement.ECDH, k, bytes.fromhex(rec["INPUT_U"]))
        assert out == bytes.fromhex(rec["OUTPUT_U"]) and len(out) == size


def _ffdh_records() -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for line in (DATA / "ffdh_kat.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, _, value = line.partition("=")
        if key.strip() == "group":
            records.append({})
        records[-1][key.strip()] = value.strip()
    return records


FFDH = KeyAgreementAlg(RawKeyAgreement.FFDH)


@NEEDS.test(*(imports(KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919), b, FFDH,
                      Opcode.PSA_IMPORT_KEY, Opcode.PSA_RAW_KEY_AGREEMENT) for b in (2048, 3072, 4096)))
def test_ffdh_openssl_known_answers(client: BasicClient) -> None:
    """RFC 7919 finite-field DH answers computed by the openssl command line (ffdhe2048..4096):
    our private exponent and their public value give their shared secret, padded to the prime."""
    records = _ffdh_records()
    assert [r["group"] for r in records] == ["ffdhe2048", "ffdhe3072", "ffdhe4096"]
    for rec in records:
        bits = int(rec["group"].removeprefix("ffdhe"))
        size = bits // 8
        kt = KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)
        a = attrs(kt, FFDH, UsageFlags(derive=True))
        k = imported(client, a, int(rec["x"], 16).to_bytes(size, "big"))
        secret = client.raw_key_agreement(RawKeyAgreement.FFDH, k, int(rec["peer"], 16).to_bytes(size, "big"))
        assert secret == int(rec["z"], 16).to_bytes(size, "big")


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
