"""Authenticators turn the auth bytes of a request (and the peer's credentials) into an identity."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.operations import AuthenticatorInfo
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity


@dataclass(frozen=True)
class PeerCredentials:
    pid: int
    uid: int
    gid: int


class Authenticator:
    auth_type: AuthType
    description: str = ""
    version = (0, 1, 0)

    def __init__(self, admins: tuple[str, ...] = ()) -> None:
        self.admins = frozenset(admins)

    def info(self) -> AuthenticatorInfo:
        maj, mnr, rev = self.version
        return AuthenticatorInfo(description=self.description, version_maj=maj, version_min=mnr,
                                 version_rev=rev, id=int(self.auth_type))

    def authenticate(self, auth: bytes, peer: PeerCredentials | None) -> Identity:
        raise NotImplementedError

    def is_admin(self, identity: Identity) -> bool:
        return identity.auth_type == self.auth_type and identity.name in self.admins


class DirectAuthenticator(Authenticator):
    auth_type = AuthType.DIRECT
    description = ("Direct authenticator: the application states its own name; for mutually "
                   "trusted clients only")

    def authenticate(self, auth: bytes, peer: PeerCredentials | None) -> Identity:
        if not auth:
            raise ParsecError(ResponseStatus.AUTHENTICATION_ERROR, "empty application name")
        try:
            name = auth.decode("utf-8")
        except UnicodeDecodeError:
            raise ParsecError(ResponseStatus.AUTHENTICATION_ERROR,
                              "application name is not valid UTF-8") from None
        return Identity(self.auth_type, name)


class UnixPeerCredentialsAuthenticator(Authenticator):
    auth_type = AuthType.UNIX_PEER_CREDENTIALS
    description = ("Unix peer credentials authenticator: the application is the user id the "
                   "kernel reports for the connection")

    def authenticate(self, auth: bytes, peer: PeerCredentials | None) -> Identity:
        if len(auth) != 4:
            raise ParsecError(ResponseStatus.AUTHENTICATION_ERROR,
                              f"expected a 4-byte user id, got {len(auth)} bytes")
        (claimed,) = struct.unpack("<I", auth)
        if peer is None:
            raise ParsecError(ResponseStatus.AUTHENTICATION_ERROR,
                              "peer credentials of the connection are unavailable")
        if peer.uid != claimed:
            raise ParsecError(ResponseStatus.AUTHENTICATION_ERROR,
                              f"claimed uid {claimed} is not the connection's uid {peer.uid}")
        return Identity(self.auth_type, str(claimed))


def build(auth_type: str, admins: tuple[str, ...]) -> Authenticator:
    if auth_type == "Direct":
        return DirectAuthenticator(admins)
    if auth_type == "UnixPeerCredentials":
        return UnixPeerCredentialsAuthenticator(admins)
    raise ParsecError(ResponseStatus.AUTHENTICATOR_NOT_REGISTERED,
                      f"authenticator {auth_type!r} is not available in this build of pqparsec")
