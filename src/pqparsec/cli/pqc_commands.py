"""Post-quantum and EdDSA commands (pqparsec protocol extensions, docs/pqc.md): create-mlkem-key,
create-mldsa-key, create-slhdsa-key, create-ed25519-key, encapsulate, decapsulate. `sign` and
`verify` (crypto_commands) work with the signing keys made here."""

from __future__ import annotations

import click

from pqparsec.cli.context import Tool, b64, b64decode, emit_json, pass_tool
from pqparsec.cli.specs import HASHES
from pqparsec.client import templates
from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.psa import (
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
    describe_algorithm,
)

key_name_option = click.option("-k", "--key-name", required=True, help="The key's name.")
exportable_option = click.option("-x", "--exportable", is_flag=True,
                                 help="Allow PsaExportKey of the key (export usage flag).")

# ML-DSA-44/65/87 are PSA key_bits 128/192/256.
ML_DSA_LEVELS = {"44": 128, "65": 192, "87": 256}
SLH_DSA_FAMILIES = {"sha2-s": SlhDsaFamily.SHA2_S, "sha2-f": SlhDsaFamily.SHA2_F,
                    "shake-s": SlhDsaFamily.SHAKE_S, "shake-f": SlhDsaFamily.SHAKE_F}
# Pre-hashes HashML-DSA / HashSLH-DSA accept (docs/pqc.md "Signatures").
PREHASHES = {name: h for name, h in HASHES.items()
             if h not in (Hash.MD5, Hash.RIPEMD160, Hash.SHA_1)}


def _usage(sign: bool, exportable: bool) -> UsageFlags:
    if sign:
        return UsageFlags(sign_hash=True, verify_hash=True, sign_message=True,
                          verify_message=True, export=exportable)
    return UsageFlags(encrypt=True, decrypt=True, export=exportable)


def _signing_algorithm(pure: SignKind, det: SignKind, hashed: SignKind, det_hashed: SignKind,
                       hash_name: str | None, deterministic: bool) -> SignAlg:
    """The pure or pre-hash variant (--hash), hedged or --deterministic, of a PQC scheme."""
    if hash_name is None:
        return SignAlg(det if deterministic else pure)
    return SignAlg(det_hashed if deterministic else hashed, PREHASHES[hash_name])


def _create(tool: Tool, key_name: str, what: str, attrs: KeyAttributes) -> None:
    tool.info(f"Creating {what} key...")
    tool.client.generate_key(key_name, attrs)
    tool.info(f"Key \"{key_name}\" created.")


@click.command("create-mlkem-key")
@key_name_option
@click.option("-b", "--bits", type=click.Choice(["512", "768", "1024"]), default="768",
              show_default=True, help="The parameter set: ML-KEM-512, -768 or -1024.")
@exportable_option
@pass_tool
def create_mlkem_key(tool: Tool, key_name: str, bits: str, exportable: bool) -> None:
    """Create an ML-KEM (FIPS 203) key pair for encapsulate / decapsulate."""
    attrs = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), int(bits),
                          KeyPolicy(_usage(False, exportable), KemAlg(KemKind.ML_KEM)))
    _create(tool, key_name, f"ML-KEM-{bits}", attrs)


@click.command("create-mldsa-key")
@key_name_option
@click.option("-l", "--level", type=click.Choice(sorted(ML_DSA_LEVELS)), default="65",
              show_default=True, help="The parameter set: ML-DSA-44, -65 or -87.")
@click.option("--hash", "hash_name", type=click.Choice(list(PREHASHES)),
              help="HashML-DSA with this pre-hash instead of pure ML-DSA.")
@click.option("--deterministic", is_flag=True,
              help="Deterministic instead of hedged signing (needs pycryptodome in the service).")
@exportable_option
@pass_tool
def create_mldsa_key(tool: Tool, key_name: str, level: str, hash_name: str | None,
                     deterministic: bool, exportable: bool) -> None:
    """Create an ML-DSA (FIPS 204) signing key pair: pure, hedged ML-DSA-65 by default."""
    alg = _signing_algorithm(SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA, SignKind.HASH_ML_DSA,
                             SignKind.DETERMINISTIC_HASH_ML_DSA, hash_name, deterministic)
    attrs = KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), ML_DSA_LEVELS[level],
                          KeyPolicy(_usage(True, exportable), alg))
    _create(tool, key_name, f"ML-DSA-{level} ({describe_algorithm(alg)})", attrs)


@click.command("create-slhdsa-key")
@key_name_option
@click.option("-f", "--family", type=click.Choice(list(SLH_DSA_FAMILIES)), default="sha2-f",
              show_default=True, help="The parameter-set family (s = small, f = fast).")
@click.option("-b", "--bits", type=click.Choice(["128", "192", "256"]), default="128",
              show_default=True, help="The security category (n = bits / 8).")
@click.option("--hash", "hash_name", type=click.Choice(list(PREHASHES)),
              help="HashSLH-DSA with this pre-hash instead of pure SLH-DSA.")
@click.option("--deterministic", is_flag=True,
              help="Deterministic instead of hedged signing (needs slh-dsa in the service; "
                   "slower: pure Python).")
@exportable_option
@pass_tool
def create_slhdsa_key(tool: Tool, key_name: str, family: str, bits: str, hash_name: str | None,
                      deterministic: bool, exportable: bool) -> None:
    """Create an SLH-DSA (FIPS 205) signing key pair: SLH-DSA-SHA2-128f by default."""
    alg = _signing_algorithm(SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA, SignKind.HASH_SLH_DSA,
                             SignKind.DETERMINISTIC_HASH_SLH_DSA, hash_name, deterministic)
    attrs = KeyAttributes(KeyType.slh_dsa_key_pair(SLH_DSA_FAMILIES[family]), int(bits),
                          KeyPolicy(_usage(True, exportable), alg))
    _create(tool, key_name, f"SLH-DSA-{family.upper()}-{bits}", attrs)


@click.command("create-ed25519-key")
@key_name_option
@click.option("--ed448", is_flag=True, help="An Ed448 key instead of Ed25519.")
@exportable_option
@pass_tool
def create_ed25519_key(tool: Tool, key_name: str, ed448: bool, exportable: bool) -> None:
    """Create an Ed25519 (or Ed448) key pair for PureEdDSA (as create-ecc-key -c ed25519)."""
    _create(tool, key_name, "Ed448" if ed448 else "Ed25519",
            templates.eddsa(448 if ed448 else 255, exportable=exportable))


def _kem_kind(tool: Tool, key_name: str) -> KemKind:
    info = tool.client.key_info(key_name)
    alg = info.attributes.algorithm
    if not isinstance(alg, KemAlg):
        raise KeyTypeError(f"key {key_name!r} is not a key-encapsulation key: its policy "
                           f"permits {describe_algorithm(alg)}")
    return alg.kind


@click.command()
@key_name_option
@click.option("--json", "as_json", is_flag=True,
              help="Print {\"ciphertext\": ..., \"shared_secret\": ...} (base64) as JSON.")
@pass_tool
def encapsulate(tool: Tool, key_name: str, as_json: bool) -> None:
    """Encapsulate a new shared secret to the key (ML-KEM or X-Wing).

    Prints two base64 lines: the ciphertext (for the holder of the key pair's `decapsulate`),
    then the 32-byte shared secret.
    """
    kind = _kem_kind(tool, key_name)
    tool.info(f"Encapsulating with {kind.name}...")
    ct, secret = tool.client.encapsulate(key_name, kind)
    if as_json:
        emit_json({"ciphertext": b64(ct), "shared_secret": b64(secret)})
        return
    click.echo(b64(ct))
    click.echo(b64(secret))


@click.command()
@key_name_option
@click.argument("ciphertext", metavar="CIPHERTEXT")
@pass_tool
def decapsulate(tool: Tool, key_name: str, ciphertext: str) -> None:
    """Decapsulate base64 CIPHERTEXT with the key pair; prints the base64 shared secret.

    ML-KEM never rejects a corrupted ciphertext (implicit rejection): the secret is then another
    one, so confirm it (e.g. with an AEAD tag) before relying on it.
    """
    ct = b64decode(ciphertext, "CIPHERTEXT")
    kind = _kem_kind(tool, key_name)
    tool.info(f"Decapsulating with {kind.name}...")
    click.echo(b64(tool.client.decapsulate(key_name, kind, ct)))
