"""AdoptKey (extension opcode 0x0102, admin only): bind a key pair that was put on the token by
other means to a named key of an application.

The private key object is found by CKA_LABEL or CKA_ID; its CKA_ID is what the key store records,
as for the keys the provider makes itself, so from then on the key is like any other of that
application (its operations, ListKeys, PsaDestroyKey, which removes the token objects).

Statuses: no such private key, PsaErrorDoesNotExist; a CKA_ID that a mapping already refers to
(of any application), PsaErrorAlreadyExists; attributes whose type or size differ from the token
object, several matching objects, or an object without a usable CKA_ID, PsaErrorInvalidArgument.
The admin check (AdminOperation, NotAuthenticated) is the dispatcher's.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from pkcs11 import Attribute, KeyType, ObjectClass

from pqparsec.protocol.operations import AdoptKeyRequest, EmptyResult
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.psa.policy import check_not_deprecated, invalid_argument
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.base import Pkcs11Base

log = logging.getLogger(__name__)

# One adoption at a time, so that two admins cannot bind one object to two keys.
_adopt_lock = threading.Lock()


def _describe(req: AdoptKeyRequest) -> str:
    return f"label {req.label!r}" if req.label is not None else f"id {(req.id or b'').hex()}"


class AdoptOps(Pkcs11Base):
    def adopt_key(self, app: Identity, req: AdoptKeyRequest) -> EmptyResult:
        attrs = req.attributes
        if not req.application_name:
            raise invalid_argument("empty application name")
        if not req.key_name:
            raise invalid_argument("empty key name")
        if not (attrs.key_type.is_key_pair and (attrs.key_type.is_rsa or attrs.key_type.is_ecc)):
            raise invalid_argument("only RSA and ECC key pairs can be adopted, not "
                                   f"{attrs.key_type.describe()}")
        check_not_deprecated(attrs, self.limits.allow_deprecated)
        self.caps.check_key_type(attrs)
        self.caps.check_policy(attrs)
        self._check_export(attrs)
        self.need_login("adopting a key")
        owner = Identity(app.auth_type, req.application_name)
        with _adopt_lock:
            with self.session("adopting a key") as s:
                key_id, bits = self._adoptable(s, req, attrs)
            if attrs.key_bits and attrs.key_bits != bits:
                raise invalid_argument(f"key_bits is {attrs.key_bits} but the token object "
                                       f"has {bits} bits")
            attrs = dataclasses.replace(attrs, key_bits=bits)
            self.caps.check_key(attrs)
            for rec in self.store.keys_of_provider(self.name):
                if rec.key_id == key_id:
                    raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                                      f"the token object with {_describe(req)} is already key "
                                      f"{rec.key_name!r} of {rec.owner}")
            self.store.insert(KeyRecord(owner, req.key_name, self.provider_id, self.name, key_id,
                                        attrs))
        log.info("AdoptKey: token object with %s adopted as key %r of %s by admin %r",
                 _describe(req), req.key_name, owner, app.name)
        return EmptyResult()

    def _adoptable(self, s: Any, req: AdoptKeyRequest, attrs: KeyAttributes) -> tuple[bytes, int]:
        """The CKA_ID and size of the private key the request names, checked against `attrs`."""
        if req.label is not None:
            query: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                     Attribute.LABEL: req.label}
        elif req.id:
            query = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: req.id}
        else:
            raise invalid_argument("an empty CKA_ID cannot select a key")
        found = list(s.get_objects(query))
        if not found:
            raise ParsecError(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                              f"no private key with {_describe(req)} on the token")
        if len(found) > 1:
            raise invalid_argument(f"{len(found)} private keys have {_describe(req)}; select "
                                   "one by its CKA_ID")
        priv = found[0]
        key_id = bytes(priv[Attribute.ID] or b"")
        if not key_id:
            raise invalid_argument(f"the private key with {_describe(req)} has no CKA_ID")
        if len(list(s.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                   Attribute.ID: key_id}))) != 1:
            raise invalid_argument(f"the CKA_ID of the private key with {_describe(req)} is not "
                                   "unique on the token")
        pubs = list(s.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: key_id}))
        kt = attrs.key_type
        token_type = priv[Attribute.KEY_TYPE]
        if kt.is_rsa:
            if token_type != KeyType.RSA:
                raise invalid_argument(f"the token object is a {token_type.name} key, not RSA")
            bits = int.from_bytes(bytes(priv[Attribute.MODULUS]), "big").bit_length()
        else:
            if token_type != KeyType.EC:
                raise invalid_argument(f"the token object is a {token_type.name} key, not ECC")
            params = bytes(priv[Attribute.EC_PARAMS])
            sizes = [b for b in formats.CURVES if formats.ec_params(b) == params]
            if not sizes:
                raise invalid_argument("the token object's curve is not one of SECP-R1 "
                                       f"{', '.join(map(str, sorted(formats.CURVES)))}")
            bits = sizes[0]
            if not pubs:  # an EC private key object does not carry the public point
                raise invalid_argument(f"the private key with {_describe(req)} has no public "
                                       "key object with the same CKA_ID")
        for pub in pubs:
            if pub[Attribute.KEY_TYPE] != token_type:
                raise invalid_argument("the public key object with the same CKA_ID is of "
                                       "another key type")
        return key_id, bits
