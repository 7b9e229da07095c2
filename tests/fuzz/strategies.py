"""Hypothesis strategies: the PSA model, every operation's typed request and result (valid by
construction, so that they round-trip through the codec), raw protobuf wire bytes, and mutations
of whole requests.

The request and result strategies walk a dataclass and its protobuf message side by side, as the
codec does: an int gets the range of its protobuf type, an enum its members, a oneof exactly one
member, a nested message a nested dataclass.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
import types
import typing
from enum import IntEnum
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from hypothesis import strategies as st

from pqparsec.protocol.header import HEADER_LEN, MAGIC, RawHeader
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import OPERATIONS
from pqparsec.protocol.psa import (
    ANY_HASH,
    SIGN_KINDS_WITH_HASH,
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KdfAlg,
    KdfKind,
    KemAlg,
    KemKind,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    PcrBinding,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)

U32 = 2**32 - 1
U64 = 2**64 - 1

# ------------------------------------------------------------------------------------------------
# The PSA model

hashes = st.sampled_from(list(Hash))
u32 = st.integers(0, U32)
# Key sizes: mostly ones a provider knows (so that generated keys get past the size checks), and
# now and then any uint32.
KEY_BITS = (0, 8, 128, 192, 255, 256, 384, 448, 512, 521, 1024, 2048)
key_bits = st.sampled_from(KEY_BITS) | u32


@st.composite
def key_types(draw: st.DrawFn) -> KeyType:
    kind = draw(st.sampled_from(list(KeyKind)))
    if kind in (KeyKind.ECC_KEY_PAIR, KeyKind.ECC_PUBLIC_KEY):
        return KeyType(kind, ecc_family=draw(st.sampled_from(list(EccFamily))))
    if kind in (KeyKind.DH_KEY_PAIR, KeyKind.DH_PUBLIC_KEY):
        return KeyType(kind, dh_family=draw(st.sampled_from(list(DhFamily))))
    if kind in (KeyKind.SLH_DSA_KEY_PAIR, KeyKind.SLH_DSA_PUBLIC_KEY):
        return KeyType(kind, slh_dsa_family=draw(st.sampled_from(list(SlhDsaFamily))))
    return KeyType(kind)


usage_flags = st.builds(UsageFlags, *[st.booleans() for _ in dataclasses.fields(UsageFlags)])


@st.composite
def sign_algs(draw: st.DrawFn) -> SignAlg:
    kind = draw(st.sampled_from(list(SignKind)))
    if kind in SIGN_KINDS_WITH_HASH:
        return SignAlg(kind, draw(hashes | st.just(ANY_HASH)))
    return SignAlg(kind)


encrypt_algs = st.one_of(st.just(EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)),
                         st.builds(EncryptAlg, st.just(EncryptKind.RSA_OAEP), hashes))
aead_algs = st.builds(AeadAlg, st.sampled_from(list(AeadKind)), st.none() | u32)
mac_algs = st.one_of(
    st.builds(MacAlg, st.just(MacKind.HMAC), hashes, st.none() | u32),
    st.builds(MacAlg, st.sampled_from([MacKind.CBC_MAC, MacKind.CMAC]), st.none(), st.none() | u32))
kdf_algs = st.builds(KdfAlg, st.sampled_from(list(KdfKind)), hashes)
algorithms: st.SearchStrategy[Algorithm] = st.one_of(
    st.just(NoAlgorithm()), st.builds(HashAlg, hashes), mac_algs,
    st.builds(CipherAlg, st.sampled_from(list(CipherMode))), aead_algs, sign_algs(), encrypt_algs,
    st.builds(KeyAgreementAlg, st.sampled_from(list(RawKeyAgreement)), st.none() | kdf_algs),
    kdf_algs, st.builds(KemAlg, st.sampled_from(list(KemKind))))
pcr_bindings = st.builds(PcrBinding, st.lists(u32, max_size=4).map(tuple), hashes,
                         st.binary(max_size=64))
maybe_pcr_binding = st.none() | pcr_bindings


@st.composite
def key_attributes(draw: st.DrawFn, bits: st.SearchStrategy[int] = key_bits,
                   pcr: st.SearchStrategy[PcrBinding | None] = maybe_pcr_binding,
                   ) -> KeyAttributes:
    policy = KeyPolicy(draw(usage_flags), draw(algorithms), draw(pcr))
    return KeyAttributes(draw(key_types()), draw(bits), policy)


# Strategies for the codec's model types, by dataclass type.
MODEL_STRATEGIES: dict[Any, st.SearchStrategy[Any]] = {
    KeyAttributes: key_attributes(), SignAlg: sign_algs(), EncryptAlg: encrypt_algs,
    AeadAlg: aead_algs, MacAlg: mac_algs,
}

# ------------------------------------------------------------------------------------------------
# Typed requests and results

# String fields that name a key or an application: drawn from `names`, so that a handler fuzzer
# can point them at keys that exist.
NAME_FIELDS = frozenset({"key_name", "private_key_name", "attested_key_name", "attesting_key_name",
                         "output_key_name", "application_name", "client"})
_INT_RANGES = {FieldDescriptor.TYPE_UINT32: (0, U32), FieldDescriptor.TYPE_UINT64: (0, U64),
               FieldDescriptor.TYPE_INT32: (-2**31, 2**31 - 1),
               FieldDescriptor.TYPE_INT64: (-2**63, 2**63 - 1)}


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) != len(typing.get_args(tp))
    return tp, False


def _scalar(fd: Any, tp: Any, names: st.SearchStrategy[str],
            sizes: st.SearchStrategy[int] | None) -> st.SearchStrategy[Any]:
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        if tp in MODEL_STRATEGIES:
            return MODEL_STRATEGIES[tp]
        return message(tp, fd.message_type, names, sizes)
    if isinstance(tp, type) and issubclass(tp, IntEnum):
        return st.sampled_from(list(tp))
    if tp is str:
        return names if fd.name in NAME_FIELDS else st.text(max_size=24)
    if tp is bytes:
        return st.binary(max_size=96)
    if tp is bool:
        return st.booleans()
    if tp is int:
        if fd.name == "size" and sizes is not None:
            return sizes
        lo, hi = _INT_RANGES[fd.type]
        return st.integers(lo, hi)
    raise AssertionError(f"no strategy for {fd.full_name}: {tp!r}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@st.composite
def message(draw: st.DrawFn, cls: type, desc: Any, names: st.SearchStrategy[str],
            sizes: st.SearchStrategy[int] | None = None) -> Any:
    """A valid instance of codec dataclass `cls`, whose protobuf message is `desc`: exactly one
    member of each oneof, optional fields absent or present."""
    hints = _hints(cls)
    own = {f.name for f in dataclasses.fields(cls)}
    chosen = {}
    for group in desc.oneofs:
        members = [fd.name for fd in group.fields if fd.name in own]
        if members:
            chosen[group.name] = draw(st.sampled_from(members))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        fd = desc.fields_by_name[f.name]
        tp, optional = _strip_optional(hints[f.name])
        group = fd.containing_oneof
        if group is not None and group.name in chosen:
            if chosen[group.name] != f.name:
                kwargs[f.name] = None
                continue
        elif optional and draw(st.booleans()):
            kwargs[f.name] = None
            continue
        if fd.is_repeated:
            item = typing.get_args(tp)[0]
            kwargs[f.name] = draw(st.lists(_scalar(fd, item, names, sizes), max_size=4))
        else:
            kwargs[f.name] = draw(_scalar(fd, tp, names, sizes))
    return cls(**kwargs)


def requests(opcode: Opcode, names: st.SearchStrategy[str] | None = None,
             sizes: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[Any]:
    """Valid typed requests of `opcode`. `sizes`: GenerateRandom's size (default any uint64)."""
    spec = OPERATIONS[opcode]
    names = st.text(max_size=24) if names is None else names
    return message(spec.request, spec.operation_pb.DESCRIPTOR, names, sizes)


def results(opcode: Opcode) -> st.SearchStrategy[Any]:
    spec = OPERATIONS[opcode]
    return message(spec.result, spec.result_pb.DESCRIPTOR, st.text(max_size=24))


# ------------------------------------------------------------------------------------------------
# Raw protobuf: any well-formed wire encoding, with field numbers that the operations use (1-12,
# the extensions' 100-110) and now and then any other; values of every wire type, nested
# messages included. This reaches oneofs, enums and nested messages that random bytes rarely do.

def _varint(value: int) -> bytes:
    out = bytearray()
    value &= U64
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


_field_numbers = st.integers(1, 12) | st.integers(100, 110) | st.integers(1, 2**29 - 1)
_varint_values = st.sampled_from([0, 1, 2, 3, 0x7F, 0x80, U32, U32 + 1, U64, 2**63]) | \
    st.integers(0, U64) | st.integers(-2**63, -1)


def _record(nested: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    varint = st.tuples(_field_numbers, _varint_values).map(
        lambda t: _varint(t[0] << 3) + _varint(t[1]))
    length = st.tuples(_field_numbers, nested | st.binary(max_size=48)
                       | st.text(max_size=16).map(str.encode)).map(
        lambda t: _varint(t[0] << 3 | 2) + _varint(len(t[1])) + t[1])
    fixed = st.tuples(_field_numbers, st.sampled_from([(1, 8), (5, 4)]), st.binary(min_size=8,
                                                                                  max_size=8)).map(
        lambda t: _varint(t[0] << 3 | t[1][0]) + t[2][:t[1][1]])
    return st.one_of(varint, length, fixed)


protobuf_wire: st.SearchStrategy[bytes] = st.recursive(
    st.just(b""),
    lambda inner: st.lists(_record(inner), max_size=5).map(b"".join),
    max_leaves=12)

# ------------------------------------------------------------------------------------------------
# Whole requests (header + body + auth) and their mutations

# The remainder's fields, in order, with their struct formats.
HEADER_FIELDS = [f.name for f in dataclasses.fields(RawHeader)]
_HEADER_FORMATS = dict(zip(HEADER_FIELDS, "BBHBQBBBIHIHBB", strict=True))
_INTERESTING = {
    "provider": [0, 1, 2, 3, 4, 5, 6, 255],
    "auth_type": [0, 1, 2, 3, 4, 5, 255],
    "opcode": [*map(int, Opcode), 0, 0x1D, 0x21, 0xFF, 0x103, 2**32 - 1],
    "content_type": [0, 1, 255], "accept_type": [0, 1, 255],
    "version_maj": [0, 1, 2], "version_min": [0, 1],
    "body_len": [0, 1, 2**20, 2**20 + 1, 2**31, 2**32 - 1], "auth_len": [0, 1, 2**16 - 1],
}


def _field_values(name: str) -> st.SearchStrategy[int]:
    bits = struct.calcsize("<" + _HEADER_FORMATS[name]) * 8
    any_value = st.integers(0, 2**bits - 1)
    if name in _INTERESTING:
        return st.sampled_from(_INTERESTING[name]) | any_value
    return st.sampled_from([0, 1, 2**bits - 1]) | any_value


def split(raw: bytes) -> tuple[RawHeader, bytes, bytes] | None:
    """Header, body and auth of a request whose header is well formed (lengths as announced)."""
    if len(raw) < HEADER_LEN or raw[:4] != struct.pack("<I", MAGIC):
        return None
    values = struct.unpack("<BBHBQBBBIHIHBB", raw[6:HEADER_LEN])
    header = RawHeader(*values)
    body = raw[HEADER_LEN:HEADER_LEN + header.body_len]
    auth = raw[HEADER_LEN + header.body_len:HEADER_LEN + header.body_len + header.auth_len]
    return header, body, auth


def join(header: RawHeader, body: bytes, auth: bytes) -> bytes:
    return dataclasses.replace(header, body_len=len(body), auth_len=len(auth)).pack() + body + auth


@st.composite
def mutated(draw: st.DrawFn, seeds: st.SearchStrategy[bytes],
            bodies: st.SearchStrategy[bytes] = protobuf_wire,
            auths: st.SearchStrategy[bytes] | None = None) -> bytes:
    """A request from `seeds` with one to three mutations: a header field set to another value
    (lengths left as they were, or kept consistent), the body or the auth replaced (by `bodies`,
    `auths`, or another seed's), bytes flipped, inserted or cut, the whole truncated or extended,
    or header and body of two different seeds spliced."""
    raw = draw(seeds)
    auths = auths if auths is not None else st.binary(max_size=24)
    for _ in range(draw(st.integers(1, 3))):
        parts = split(raw)
        how = draw(st.sampled_from(["field", "field", "body", "body", "auth", "flip", "insert",
                                    "cut", "truncate", "extend", "splice"]))
        if how in ("field", "body", "auth", "splice") and parts is not None:
            header, body, auth = parts
            if how == "field":
                name = draw(st.sampled_from(HEADER_FIELDS))
                header = dataclasses.replace(header, **{name: draw(_field_values(name))})
                raw = header.pack() + body + auth
                continue
            if how == "body":
                body = draw(bodies)
            elif how == "auth":
                auth = draw(auths)
            else:
                other = split(draw(seeds))
                if other is not None:
                    body = other[1]
            raw = join(header, body, auth)
        elif how == "flip" and raw:
            i = draw(st.integers(0, len(raw) - 1))
            raw = raw[:i] + bytes([raw[i] ^ draw(st.integers(1, 255))]) + raw[i + 1:]
        elif how == "insert":
            i = draw(st.integers(0, len(raw)))
            raw = raw[:i] + draw(st.binary(min_size=1, max_size=8)) + raw[i:]
        elif how == "cut" and raw:
            i = draw(st.integers(0, len(raw) - 1))
            raw = raw[:i] + raw[i + draw(st.integers(1, 8)):]
        elif how == "truncate":
            raw = raw[:draw(st.integers(0, len(raw)))]
        elif how == "extend":
            raw += draw(st.binary(min_size=1, max_size=32))
    return raw
