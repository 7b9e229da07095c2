"""Cryptographic operations with a named key: sign, verify, encrypt, decrypt, aead-encrypt,
aead-decrypt, mac, key-agreement. The algorithm always comes from the key's policy."""

from __future__ import annotations

import click

from pqparsec.cli import format as fmt
from pqparsec.cli.context import (
    Tool,
    b64,
    b64decode,
    emit_bytes,
    pass_tool,
    read_file,
    read_input,
)
from pqparsec.client import keys
from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.psa import SignAlg

key_name_option = click.option("-k", "--key-name", required=True, help="The key's name.")
input_argument = click.argument("input_data", metavar="INPUT", required=False)
input_file_option = click.option("-f", "--input-file",
                                 type=click.Path(dir_okay=False, allow_dash=True),
                                 help="Read the data from this file ('-' = stdin) instead of "
                                      "the INPUT string.")
raw_option = click.option("--raw", is_flag=True,
                          help="ECDSA: the PSA r||s signature format instead of DER.")
context_option = click.option("--context", default="",
                              help="ML-DSA / SLH-DSA: the context string (UTF-8, 0-255 bytes).")


def _context(alg: SignAlg, context: str) -> bytes:
    ctx = context.encode()
    if ctx and not (alg.is_ml_dsa or alg.is_slh_dsa):
        raise click.UsageError("--context is for ML-DSA and SLH-DSA keys only")
    if len(ctx) > 255:
        raise click.BadParameter("at most 255 bytes", param_hint="--context")
    return ctx


def _inner(alg_text: str) -> str:
    """'AsymmetricSignature(Ecdsa { .. })' -> 'Ecdsa { .. }', as parsec-tool logs algorithms."""
    _, _, rest = alg_text.partition("(")
    return rest[:-1] if rest.endswith(")") else alg_text


@click.command()
@key_name_option
@input_argument
@input_file_option
@raw_option
@context_option
@pass_tool
def sign(tool: Tool, key_name: str, input_data: str | None, input_file: str | None,
         raw: bool, context: str) -> None:
    """Sign data with the key's algorithm: hashed locally, signed by the service (base64 out).

    ECDSA signatures are DER-encoded, as `openssl dgst -verify` expects. EdDSA, ML-DSA and
    SLH-DSA keys sign the data itself (or, for their Hash- variants, its hash).
    """
    data = read_input(input_data, input_file)
    client = tool.client
    info = client.key_info(key_name)
    alg, h = client.signing_algorithm(info)
    ctx = _context(alg, context)
    if h is not None:
        tool.info(f"Hashing data with {fmt.hash_name(h)}...")
    tool.info(f"Signing data with {_inner(fmt.algorithm(alg))}...")
    click.echo(b64(client.sign(key_name, data, "raw" if raw else "der", info=info,
                               context=ctx)))


@click.command()
@key_name_option
@input_argument
@input_file_option
@click.option("-s", "--signature", required=True, help="The base64 signature to check.")
@raw_option
@context_option
@pass_tool
def verify(tool: Tool, key_name: str, input_data: str | None, input_file: str | None,
           signature: str, raw: bool, context: str) -> None:
    """Verify a signature of data with the key (exit code 10 if it does not match)."""
    data = read_input(input_data, input_file)
    sig = b64decode(signature, "--signature")
    client = tool.client
    info = client.key_info(key_name)
    alg, h = client.signing_algorithm(info)
    ctx = _context(alg, context)
    if h is not None:
        tool.info(f"Hashing data with {fmt.hash_name(h)}...")
    tool.info(f"Verifying signature with {_inner(fmt.algorithm(alg))}...")
    client.verify(key_name, data, sig, "raw" if raw else "der", info=info, context=ctx)
    click.echo("Signature is valid.")


@click.command()
@key_name_option
@input_argument
@input_file_option
@pass_tool
def encrypt(tool: Tool, key_name: str, input_data: str | None, input_file: str | None) -> None:
    """Encrypt data with the key's asymmetric algorithm (base64 out)."""
    data = read_input(input_data, input_file)
    client = tool.client
    info = client.key_info(key_name)
    tool.info(f"Encrypting data with {_inner(fmt.algorithm(info.attributes.algorithm))}...")
    click.echo(b64(client.encrypt(key_name, data, info=info)))


@click.command()
@key_name_option
@click.argument("ciphertext", metavar="CIPHERTEXT")
@pass_tool
def decrypt(tool: Tool, key_name: str, ciphertext: str) -> None:
    """Decrypt base64 CIPHERTEXT with the key's asymmetric algorithm."""
    ct = b64decode(ciphertext, "CIPHERTEXT")
    client = tool.client
    info = client.key_info(key_name)
    tool.info(f"Decrypting data with {_inner(fmt.algorithm(info.attributes.algorithm))}...")
    emit_bytes(client.decrypt(key_name, ct, info=info))


aad_option = click.option("--aad", default="", help="Additional authenticated data (a string).")


@click.command("aead-encrypt")
@key_name_option
@input_argument
@input_file_option
@aad_option
@pass_tool
def aead_encrypt(tool: Tool, key_name: str, input_data: str | None, input_file: str | None,
                 aad: str) -> None:
    """Encrypt with the key's AEAD algorithm and a random nonce; prints base64(nonce||ct)."""
    data = read_input(input_data, input_file)
    client = tool.client
    info = client.key_info(key_name)
    tool.info(f"Encrypting data with {_inner(fmt.algorithm(info.attributes.algorithm))}...")
    click.echo(b64(client.seal(key_name, data, aad.encode(), info=info)))


@click.command("aead-decrypt")
@key_name_option
@click.argument("ciphertext", metavar="CIPHERTEXT")
@aad_option
@pass_tool
def aead_decrypt(tool: Tool, key_name: str, ciphertext: str, aad: str) -> None:
    """Decrypt base64(nonce||ct) made by aead-encrypt."""
    sealed = b64decode(ciphertext, "CIPHERTEXT")
    client = tool.client
    info = client.key_info(key_name)
    tool.info(f"Decrypting data with {_inner(fmt.algorithm(info.attributes.algorithm))}...")
    emit_bytes(client.unseal(key_name, sealed, aad.encode(), info=info))


@click.command()
@key_name_option
@input_argument
@input_file_option
@click.option("--verify", "expected", metavar="MAC",
              help="Check this base64 MAC instead of printing one (exit code 10 if wrong).")
@pass_tool
def mac(tool: Tool, key_name: str, input_data: str | None, input_file: str | None,
        expected: str | None) -> None:
    """Compute (base64 out) or verify a MAC with the key's algorithm."""
    data = read_input(input_data, input_file)
    client = tool.client
    info = client.key_info(key_name)
    if expected is not None:
        client.mac_check(key_name, data, b64decode(expected, "--verify"), info=info)
        click.echo("MAC is valid.")
        return
    click.echo(b64(client.mac(key_name, data, info=info)))


@click.command("key-agreement")
@key_name_option
@click.option("-P", "--peer-key", "peer_file", required=True,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="The peer's public key: PEM or DER SubjectPublicKeyInfo ('-' = stdin).")
@click.option("--hex", "as_hex", is_flag=True, help="Print hex instead of base64.")
@pass_tool
def key_agreement(tool: Tool, key_name: str, peer_file: str, as_hex: bool) -> None:
    """Raw key agreement (ECDH) between the key and a peer's public key; prints the secret."""
    try:
        peer = keys.load_key(read_file(peer_file))
    except KeyTypeError as exc:
        raise click.BadParameter(str(exc), param_hint="--peer-key") from None
    if isinstance(peer, keys.PrivateKey):
        peer = peer.public_key()
    secret = tool.client.agree(key_name, peer)
    click.echo(secret.hex() if as_hex else b64(secret))
