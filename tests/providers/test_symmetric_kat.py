"""Known-answer tests for the symmetric operations, from published vectors.

The vectors come with the `cryptography-vectors` package: NIST CAVP (AES GCM, CCM, ECB, CBC,
CFB128, OFB, XTS; SP 800-38B CMAC), RFC 3686 (AES-CTR), RFC 7539 (ChaCha20), RFC 4231 / RFC 2202
(HMAC) and the ChaCha20-Poly1305 files from BoringSSL and OpenSSL. Each test imports the vector's
key into the service, runs the operation over the socket and compares. A bounded, deterministic
subset of each file is used so the whole module stays within a few seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import cryptography_vectors
import pytest
from capabilities import Pinned
from capabilities.needs import Need, Needs, assert_refused, imports
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

ROOT = Path(cryptography_vectors.__file__).resolve().parent
CRYPT = UsageFlags(encrypt=True, decrypt=True)
MACS = UsageFlags(sign_message=True, verify_message=True)
Record = dict[str, str]


# -- reading vector files -----------------------------------------------------------------------


@cache
def load(rel: str, start: str = "count") -> list[Record]:
    """The records of a NIST-style vector file.

    `[A = 1, B = 2]` or `[ENCRYPT]` headers and `name = value` lines that come before the first
    record of a block are context that every following record inherits; a `start` line opens a
    new record; a bare `FAIL` marks the record as one that must not verify.
    """
    out: list[Record] = []
    ctx: Record = {}
    rec: Record | None = None
    for raw in (ROOT / rel).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if rec is not None:
                out.append(rec)
                rec = None
            inner = line.strip("[]")
            if "=" not in inner:
                ctx["section"] = inner.strip()
            for part in inner.split(","):
                if "=" in part:
                    k, _, v = part.partition("=")
                    ctx[k.strip().lower()] = v.strip()
            continue
        if line == "FAIL":
            assert rec is not None
            rec["fail"] = "1"
            continue
        k, _, v = line.partition("=")
        key, value = k.strip().lower(), v.strip()
        if key == start:
            if rec is not None:
                out.append(rec)
            rec = {**ctx, key: value}
        elif rec is None:
            ctx[key] = value
        else:
            rec[key] = value
    if rec is not None:
        out.append(rec)
    return out


def hx(value: str) -> bytes:
    """Hex, or a quoted ASCII string as in BoringSSL's files."""
    if value.startswith('"'):
        return value[1:-1].encode()
    return bytes.fromhex(value)


def first_per_group(records: Iterable[Record], group: Callable[[Record], Any],
                    n: int = 1) -> list[Record]:
    """The first `n` records of each group, in file order: a spread, not the whole file."""
    seen: dict[Any, int] = {}
    out = []
    for rec in records:
        g = group(rec)
        if g is None or seen.get(g, 0) >= n:
            continue
        seen[g] = seen.get(g, 0) + 1
        out.append(rec)
    return out


# What the tests need of a provider (capabilities/needs.py): a vector runs where the pinned table
# says the provider imports its key for its algorithm and serves the operation, and
# test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()


def cases(records: list[tuple[str, Record]], need_of: Callable[[Record], Need]) -> pytest.MarkDecorator:
    return NEEDS.cases("where, v", records, lambda r: [need_of(r[1])], ids=[w for w, _ in records])


def key_bits(v: Record) -> int:
    return len(hx(v["key"])) * 8


def labelled(rel: str, recs: Iterable[Record]) -> list[tuple[str, Record]]:
    name = rel.rsplit("/", 1)[-1].split(".")[0]
    out = []
    for i, r in enumerate(recs):
        tag = r.get("count", str(i))
        params = "-".join(f"{k}{r[k]}" for k in ("ivlen", "taglen", "nlen", "tlen", "alen", "plen",
                                                  "dataunitlen", "section") if k in r)
        out.append((f"{name}-{params}-{tag}".replace(" ", ""), r))
    return out


# -- helpers talking to the service ---------------------------------------------------------------


def import_key(client: BasicClient, kind: KeyKind, usage: UsageFlags, alg: Algorithm,
               data: bytes, name: str = "k") -> str:
    client.import_key(name, KeyAttributes(KeyType.simple(kind), 0, KeyPolicy(usage, alg)), data)
    return name


def status_of(call: Callable[..., Any], *args: Any) -> ResponseStatus:
    with pytest.raises(ServiceError) as info:
        call(*args)
    return info.value.status


AEAD_OPS = (Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, Opcode.PSA_IMPORT_KEY)
CIPHER_OPS = (Opcode.PSA_CIPHER_ENCRYPT, Opcode.PSA_CIPHER_DECRYPT, Opcode.PSA_IMPORT_KEY)
MAC_OPS = (Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY, Opcode.PSA_IMPORT_KEY)
AES, CHACHA20, HMAC = KeyType.simple(KeyKind.AES), KeyType.simple(KeyKind.CHACHA20), \
    KeyType.simple(KeyKind.HMAC)


# -- AES-GCM ----------------------------------------------------------------------------------------


def _gcm_alg(v: Record) -> AeadAlg:
    tag = int(v["taglen"]) // 8
    return AeadAlg(AeadKind.GCM, None if tag == 16 else tag)


def _gcm_encrypt_cases() -> list[tuple[str, Record]]:
    out = []
    for bits in (128, 192, 256):
        rel = f"ciphers/AES/GCM/gcmEncryptExtIV{bits}.rsp"
        recs = load(rel)
        # Every nonce length (1, 12 and 128 bytes) with every tag length, on a message that is
        # not a whole number of blocks; and a one-block message without additional data.
        chosen = first_per_group(recs, lambda r: (r["ivlen"], r["taglen"])
                                 if (r["ptlen"], r["aadlen"]) == ("408", "160") else None)
        chosen += first_per_group(recs, lambda r: r["ivlen"]
                                  if (r["ptlen"], r["aadlen"], r["taglen"]) == ("128", "0", "128")
                                  else None)
        out += labelled(rel, chosen)
    return out


@cases(_gcm_encrypt_cases(), lambda v: imports(AES, key_bits(v), _gcm_alg(v), *AEAD_OPS))
def test_gcm_encrypt(client: BasicClient, where: str, v: Record) -> None:
    alg = _gcm_alg(v)
    import_key(client, KeyKind.AES, CRYPT, alg, hx(v["key"]))
    iv, aad, pt = hx(v["iv"]), hx(v["aad"]), hx(v["pt"])
    expected = hx(v["ct"]) + hx(v["tag"])
    assert client.aead_encrypt("k", alg, iv, aad, pt) == expected
    assert client.aead_decrypt("k", alg, iv, aad, expected) == pt


def _gcm_decrypt_cases() -> list[tuple[str, Record]]:
    out = []
    for bits in (128, 192, 256):
        rel = f"ciphers/AES/GCM/gcmDecrypt{bits}.rsp"
        # One authentic and one forged record per nonce and tag length, with and without payload.
        chosen = first_per_group(load(rel), lambda r: (r["ivlen"], r["taglen"], r["ptlen"], "fail" in r)
                                 if (r["ptlen"], r["aadlen"]) in (("408", "160"), ("0", "128")) else None)
        out += labelled(rel, chosen)
    return out


@cases(_gcm_decrypt_cases(), lambda v: imports(AES, key_bits(v), _gcm_alg(v), *AEAD_OPS))
def test_gcm_decrypt(client: BasicClient, where: str, v: Record) -> None:
    alg = _gcm_alg(v)
    import_key(client, KeyKind.AES, CRYPT, alg, hx(v["key"]))
    iv, aad, ct = hx(v["iv"]), hx(v["aad"]), hx(v["ct"]) + hx(v["tag"])
    if "fail" in v:
        assert status_of(client.aead_decrypt, "k", alg, iv, aad, ct) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    else:
        assert client.aead_decrypt("k", alg, iv, aad, ct) == hx(v["pt"])


# -- AES-CCM ----------------------------------------------------------------------------------------


def _ccm_alg(v: Record) -> AeadAlg:
    tag = int(v["tlen"])
    return AeadAlg(AeadKind.CCM, None if tag == 16 else tag)


def _ccm_fields(v: Record) -> tuple[bytes, bytes, bytes]:
    """Nonce, additional data, payload; CAVP writes a zero-length field as `00`."""
    return (hx(v["nonce"]), hx(v["adata"])[:int(v["alen"])],
            hx(v.get("payload", ""))[:int(v["plen"])])


def _ccm_encrypt_cases() -> list[tuple[str, Record]]:
    out = []
    for bits in (128, 192, 256):
        for kind, group in (("VTT", lambda r: r["tlen"]),  # every tag length
                            ("VNT", lambda r: r["nlen"]),  # every nonce length
                            ("VPT", lambda r: r["plen"] if r["plen"] in ("1", "15", "16", "17", "32")
                             else None),
                            ("VADT", lambda r: r["alen"] if r["alen"] in ("0", "1", "32") else None)):
            rel = f"ciphers/AES/CCM/{kind}{bits}.rsp"
            out += labelled(rel, first_per_group(load(rel), group))
    return out


@cases(_ccm_encrypt_cases(), lambda v: imports(AES, key_bits(v), _ccm_alg(v), *AEAD_OPS))
def test_ccm_encrypt(client: BasicClient, where: str, v: Record) -> None:
    alg = _ccm_alg(v)
    import_key(client, KeyKind.AES, CRYPT, alg, hx(v["key"]))
    nonce, aad, pt = _ccm_fields(v)
    assert client.aead_encrypt("k", alg, nonce, aad, pt) == hx(v["ct"])
    assert client.aead_decrypt("k", alg, nonce, aad, hx(v["ct"])) == pt


def _ccm_decrypt_cases() -> list[tuple[str, Record]]:
    out = []
    for bits in (128, 192, 256):
        rel = f"ciphers/AES/CCM/DVPT{bits}.rsp"
        # Each (Alen, Plen, Nlen, Tlen) section: its first authentic and first forged record.
        chosen = first_per_group(load(rel), lambda r: (r["alen"], r["plen"], r["nlen"], r["tlen"],
                                                        r["result"].startswith("Pass")))
        out += labelled(rel, chosen)
    return out


@cases(_ccm_decrypt_cases(), lambda v: imports(AES, key_bits(v), _ccm_alg(v), *AEAD_OPS))
def test_ccm_decrypt(client: BasicClient, where: str, v: Record) -> None:
    alg = _ccm_alg(v)
    import_key(client, KeyKind.AES, CRYPT, alg, hx(v["key"]))
    nonce, aad, pt = _ccm_fields(v)
    if v["result"].startswith("Pass"):
        assert client.aead_decrypt("k", alg, nonce, aad, hx(v["ct"])) == pt
    else:
        assert status_of(client.aead_decrypt, "k", alg, nonce, aad, hx(v["ct"])) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


# -- ChaCha20-Poly1305 ------------------------------------------------------------------------------


def _chachapoly_cases() -> list[tuple[str, Record]]:
    norm = []
    for r in load("ciphers/ChaCha20Poly1305/boringssl.txt"):
        norm.append(("boringssl-" + r["count"], {"key": r["key"], "nonce": r["nonce"], "ad": r["ad"],
                                                 "pt": r["in"], "ct": r["ct"], "tag": r["tag"]}))
    for r in load("ciphers/ChaCha20Poly1305/openssl.txt"):
        norm.append(("openssl-" + r["count"], {"key": r["key"], "nonce": r["iv"], "ad": r["aad"],
                                               "pt": r["plaintext"], "ct": r["ciphertext"],
                                               "tag": r["tag"], **({"fail": "1"} if "result" in r else {})}))
    return [(w, r) for w, r in norm if hx(r["pt"])]  # Parsec refuses an empty plaintext


CHACHAPOLY = AeadAlg(AeadKind.CHACHA20_POLY1305)


@cases(_chachapoly_cases(), lambda v: imports(CHACHA20, key_bits(v), CHACHAPOLY, *AEAD_OPS))
def test_chacha20_poly1305(client: BasicClient, where: str, v: Record) -> None:
    import_key(client, KeyKind.CHACHA20, CRYPT, CHACHAPOLY, hx(v["key"]))
    nonce, ad, pt, ct = hx(v["nonce"]), hx(v["ad"]), hx(v["pt"]), hx(v["ct"]) + hx(v["tag"])
    if "fail" in v:
        assert status_of(client.aead_decrypt, "k", CHACHAPOLY, nonce, ad, ct) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
        return
    assert client.aead_encrypt("k", CHACHAPOLY, nonce, ad, pt) == ct
    assert client.aead_decrypt("k", CHACHAPOLY, nonce, ad, ct) == pt


# -- unauthenticated ciphers: decrypt IV || ciphertext (encryption picks its own random IV) --------------


def _block_mode_cases() -> list[tuple[str, Record]]:
    out = []
    for prefix, mode in (("CBC/CBCMMT", CipherMode.CBC_NO_PADDING), ("CFB/CFB128MMT", CipherMode.CFB),
                         ("OFB/OFBMMT", CipherMode.OFB), ("ECB/ECBMMT", CipherMode.ECB_NO_PADDING)):
        for bits in (128, 192, 256):
            rel = f"ciphers/AES/{prefix}{bits}.rsp"
            recs = first_per_group(load(rel), lambda r: r["section"], n=3)
            out += labelled(rel, ({**r, "mode": mode.name} for r in recs))
    for bits in (128, 192, 256):
        rel = f"ciphers/AES/CTR/aes-{bits}-ctr.txt"
        out += labelled(rel, ({**r, "mode": "CTR"} for r in load(rel)))
    return out


@cases(_block_mode_cases(),
       lambda v: imports(AES, key_bits(v), CipherAlg(CipherMode[v["mode"]]), *CIPHER_OPS))
def test_aes_modes(client: BasicClient, where: str, v: Record) -> None:
    mode = CipherMode[v["mode"]]
    import_key(client, KeyKind.AES, CRYPT, CipherAlg(mode), hx(v["key"]))
    pt, ct = hx(v["plaintext"]), hx(v["ciphertext"])
    iv = hx(v.get("iv", ""))
    assert client.cipher_decrypt("k", mode, iv + ct) == pt
    if mode == CipherMode.ECB_NO_PADDING:  # no IV: encryption is deterministic
        assert client.cipher_encrypt("k", mode, pt) == ct
    else:
        out = client.cipher_encrypt("k", mode, pt)
        assert len(out) == 16 + len(ct) and client.cipher_decrypt("k", mode, out) == pt


def _xts_cases() -> list[tuple[str, Record]]:
    # AES-128 XTS (256-bit keys); AES-256 XTS would need 512-bit AES keys, which PSA import refuses.
    rel = "ciphers/AES/XTS/tweak-128hexstr/XTSGenAES128.rsp"
    chosen = first_per_group(load(rel), lambda r: (r["section"], r["dataunitlen"])
                             if int(r["dataunitlen"]) % 8 == 0 else None, n=2)
    return labelled(rel, chosen)


@cases(_xts_cases(), lambda v: imports(AES, key_bits(v), CipherAlg(CipherMode.XTS), *CIPHER_OPS))
def test_aes_xts(client: BasicClient, where: str, v: Record) -> None:
    import_key(client, KeyKind.AES, CRYPT, CipherAlg(CipherMode.XTS), hx(v["key"]))
    tweak, pt, ct = hx(v["i"]), hx(v["pt"]), hx(v["ct"])
    assert len(pt) * 8 == int(v["dataunitlen"])
    assert client.cipher_decrypt("k", CipherMode.XTS, tweak + ct) == pt


def _chacha20_cases() -> list[tuple[str, Record]]:
    return labelled("ciphers/ChaCha20/rfc7539.txt", load("ciphers/ChaCha20/rfc7539.txt"))


@cases(_chacha20_cases(),
       lambda v: imports(CHACHA20, key_bits(v), CipherAlg(CipherMode.STREAM_CIPHER), *CIPHER_OPS))
def test_chacha20_stream(client: BasicClient, where: str, v: Record) -> None:
    mode = CipherMode.STREAM_CIPHER
    import_key(client, KeyKind.CHACHA20, CRYPT, CipherAlg(mode), hx(v["key"]))
    # PSA's ChaCha20 starts at block 0; a vector starting at block n is the same keystream after
    # n * 64 bytes, so decrypt that many filler bytes in front of it and drop them.
    skip = 64 * int(v["initial_block_counter"])
    out = client.cipher_decrypt("k", mode, hx(v["nonce"]) + os.urandom(skip) + hx(v["ciphertext"]))
    assert out[skip:] == hx(v["plaintext"])


# -- MACs -----------------------------------------------------------------------------------------

HMAC_FILES = {Hash.SHA_224: "rfc-4231-sha224.txt", Hash.SHA_256: "rfc-4231-sha256.txt",
              Hash.SHA_384: "rfc-4231-sha384.txt", Hash.SHA_512: "rfc-4231-sha512.txt"}


def _hmac_cases() -> list[tuple[str, Record]]:
    out = []
    for h, name in HMAC_FILES.items():
        rel = f"HMAC/{name}"
        out += labelled(rel, ({**r, "hash": h.name} for r in load(rel, start="len")))
    return out


def _check_hmac(client: BasicClient, h: Hash, v: Record, prefix: str = "") -> None:
    key, msg, md = hx(v["key"]), hx(v["msg"]), hx(v["md"])
    alg = MacAlg(MacKind.HMAC, h)
    full = import_key(client, KeyKind.HMAC, MACS, alg, key, name=f"{prefix}full")
    assert client.mac_compute(full, alg, msg) == md
    client.mac_verify(full, alg, msg, md)
    assert status_of(client.mac_verify, full, alg, msg, md[:-1] + bytes([md[-1] ^ 1])) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    # RFC 4231 test case 5: the same MAC truncated to 128 bits.
    short = MacAlg(MacKind.HMAC, h, 16)
    name = import_key(client, KeyKind.HMAC, MACS, short, key, name=f"{prefix}short")
    assert client.mac_compute(name, short, msg) == md[:16]
    client.mac_verify(name, short, msg, md[:16])


def _hmac_needs(v: Record) -> list[Need]:
    """HMAC keys of any length (the key size does not decide), full and 16-byte MACs."""
    h = Hash[v["hash"]]
    return [imports(HMAC, 0, MacAlg(MacKind.HMAC, h), *MAC_OPS),
            imports(HMAC, 0, MacAlg(MacKind.HMAC, h, 16), *MAC_OPS)]


@NEEDS.cases("where, v", _hmac_cases(), lambda r: _hmac_needs(r[1]), ids=[w for w, _ in _hmac_cases()])
def test_hmac(client: BasicClient, where: str, v: Record) -> None:
    _check_hmac(client, Hash[v["hash"]], v)


@pytest.fixture(scope="module")
def sha1_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BasicClient]:
    """HMAC-SHA-1 is deprecated: it is served only with allow_deprecated."""
    svc = ServiceProcess(str(tmp_path_factory.mktemp("svc-sha1")), auth_type="Direct",
                         core={"allow_deprecated": True})
    svc.start()
    yield svc.client("sha1-kat")
    svc.stop()


SHA1_VECTORS = labelled("HMAC/rfc-2202-sha1.txt", load("HMAC/rfc-2202-sha1.txt", start="len"))


@pytest.mark.parametrize(("where", "v"), SHA1_VECTORS, ids=[w for w, _ in SHA1_VECTORS])
def test_hmac_sha1(sha1_client: BasicClient, where: str, v: Record) -> None:
    _check_hmac(sha1_client, Hash.SHA_1, v, prefix=where)  # one client: a key name per vector


def _cmac_cases() -> list[tuple[str, Record]]:
    out = []
    for bits in (128, 192, 256):
        rel = f"CMAC/nist-800-38b-aes{bits}.txt"
        out += labelled(rel, load(rel))
    return out


@cases(_cmac_cases(), lambda v: imports(AES, key_bits(v), MacAlg(MacKind.CMAC), *MAC_OPS))
def test_cmac(client: BasicClient, where: str, v: Record) -> None:
    alg = MacAlg(MacKind.CMAC)
    import_key(client, KeyKind.AES, MACS, alg, hx(v["key"]))
    msg, mac = hx(v["message"]), hx(v["output"])
    assert client.mac_compute("k", alg, msg) == mac
    client.mac_verify("k", alg, msg, mac)
    assert status_of(client.mac_verify, "k", alg, msg + b"\0", mac) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


def test_vector_selection_is_bounded_and_complete() -> None:
    """The selection covers what it claims (every GCM nonce and tag length, every CCM nonce and
    tag length, forged records) and stays small."""
    gcm = [v for _, v in _gcm_encrypt_cases()]
    assert {v["ivlen"] for v in gcm} == {"8", "96", "1024"}
    assert {int(v["taglen"]) // 8 for v in gcm} == {4, 8, 12, 13, 14, 15, 16}
    assert any("fail" in v for _, v in _gcm_decrypt_cases())
    ccm = [v for _, v in _ccm_encrypt_cases()]
    assert {int(v["nlen"]) for v in ccm} == set(range(7, 14))
    assert {int(v["tlen"]) for v in ccm} == {4, 6, 8, 10, 12, 14, 16}
    assert any(not v["result"].startswith("Pass") for _, v in _ccm_decrypt_cases())
    assert any("fail" in v for _, v in _chachapoly_cases())
    assert {v["dataunitlen"] for _, v in _xts_cases()} == {"128", "200", "256"}
    total = sum(len(f()) for f in (_gcm_encrypt_cases, _gcm_decrypt_cases, _ccm_encrypt_cases,
                                   _ccm_decrypt_cases, _chachapoly_cases, _block_mode_cases,
                                   _xts_cases, _chacha20_cases, _hmac_cases, _cmac_cases))
    assert 300 < total < 1000


# -- what a provider's table lacks is refused ----------------------------------------------------


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
