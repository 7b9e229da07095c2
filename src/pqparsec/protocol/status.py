"""Parsec response status codes and the one exception type that carries them."""

from __future__ import annotations

from enum import IntEnum


class ResponseStatus(IntEnum):
    SUCCESS = 0
    WRONG_PROVIDER_ID = 1
    CONTENT_TYPE_NOT_SUPPORTED = 2
    ACCEPT_TYPE_NOT_SUPPORTED = 3
    WIRE_PROTOCOL_VERSION_NOT_SUPPORTED = 4
    PROVIDER_NOT_REGISTERED = 5
    PROVIDER_DOES_NOT_EXIST = 6
    DESERIALIZING_BODY_FAILED = 7
    SERIALIZING_BODY_FAILED = 8
    OPCODE_DOES_NOT_EXIST = 9
    RESPONSE_TOO_LARGE = 10
    AUTHENTICATION_ERROR = 11
    AUTHENTICATOR_DOES_NOT_EXIST = 12
    AUTHENTICATOR_NOT_REGISTERED = 13
    KEY_INFO_MANAGER_ERROR = 14
    CONNECTION_ERROR = 15
    INVALID_ENCODING = 16
    INVALID_HEADER = 17
    WRONG_PROVIDER_UUID = 18
    NOT_AUTHENTICATED = 19
    BODY_SIZE_EXCEEDS_LIMIT = 20
    ADMIN_OPERATION = 21
    DEPRECATED_PRIMITIVE = 22
    PSA_ERROR_GENERIC_ERROR = 1132
    PSA_ERROR_NOT_PERMITTED = 1133
    PSA_ERROR_NOT_SUPPORTED = 1134
    PSA_ERROR_INVALID_ARGUMENT = 1135
    PSA_ERROR_INVALID_HANDLE = 1136
    PSA_ERROR_BAD_STATE = 1137
    PSA_ERROR_BUFFER_TOO_SMALL = 1138
    PSA_ERROR_ALREADY_EXISTS = 1139
    PSA_ERROR_DOES_NOT_EXIST = 1140
    PSA_ERROR_INSUFFICIENT_MEMORY = 1141
    PSA_ERROR_INSUFFICIENT_STORAGE = 1142
    PSA_ERROR_INSUFFICIENT_DATA = 1143
    PSA_ERROR_COMMUNICATION_FAILURE = 1145
    PSA_ERROR_STORAGE_FAILURE = 1146
    PSA_ERROR_HARDWARE_FAILURE = 1147
    PSA_ERROR_INSUFFICIENT_ENTROPY = 1148
    PSA_ERROR_INVALID_SIGNATURE = 1149
    PSA_ERROR_INVALID_PADDING = 1150
    PSA_ERROR_CORRUPTION_DETECTED = 1151
    PSA_ERROR_DATA_CORRUPT = 1152
    PSA_ERROR_DATA_INVALID = 1153

    @property
    def parsec_name(self) -> str:
        """The name Parsec's clients print, e.g. ``PsaErrorDoesNotExist``."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def description(self) -> str:
        return _DESCRIPTIONS.get(self, self.parsec_name)


_DESCRIPTIONS = {
    ResponseStatus.SUCCESS: "successful operation",
    ResponseStatus.WRONG_PROVIDER_ID: "requested provider ID does not match that of the backend",
    ResponseStatus.CONTENT_TYPE_NOT_SUPPORTED: "requested content type is not supported by the backend",
    ResponseStatus.ACCEPT_TYPE_NOT_SUPPORTED: "requested accept type is not supported by the backend",
    ResponseStatus.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED: "requested version is not supported",
    ResponseStatus.PROVIDER_NOT_REGISTERED: "no provider registered for the requested provider ID",
    ResponseStatus.PROVIDER_DOES_NOT_EXIST: "no provider defined for the requested provider ID",
    ResponseStatus.DESERIALIZING_BODY_FAILED: "failed to deserialize the body of the message",
    ResponseStatus.SERIALIZING_BODY_FAILED: "failed to serialize the body of the message",
    ResponseStatus.OPCODE_DOES_NOT_EXIST: "requested operation is not defined",
    ResponseStatus.RESPONSE_TOO_LARGE: "response size exceeds allowed limits",
    ResponseStatus.AUTHENTICATION_ERROR: "authentication failed",
    ResponseStatus.AUTHENTICATOR_DOES_NOT_EXIST: "authenticator not supported",
    ResponseStatus.AUTHENTICATOR_NOT_REGISTERED: "authenticator not supported",
    ResponseStatus.KEY_INFO_MANAGER_ERROR: "internal error in the key info manager",
    ResponseStatus.CONNECTION_ERROR: "generic input/output error",
    ResponseStatus.INVALID_ENCODING: "invalid value for this data type",
    ResponseStatus.INVALID_HEADER: "constant fields in header are invalid",
    ResponseStatus.WRONG_PROVIDER_UUID: "the UUID vector needs to only contain 16 bytes",
    ResponseStatus.NOT_AUTHENTICATED: "request did not provide a required authentication",
    ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT:
        "request length specified in the header is above defined limit",
    ResponseStatus.ADMIN_OPERATION: "the operation requires admin privilege",
    ResponseStatus.DEPRECATED_PRIMITIVE: "the key template contains a deprecated type or algorithm",
    ResponseStatus.PSA_ERROR_GENERIC_ERROR:
        "an error occurred that does not correspond to any defined failure cause",
    ResponseStatus.PSA_ERROR_NOT_PERMITTED: "the requested action is denied by a policy",
    ResponseStatus.PSA_ERROR_NOT_SUPPORTED: "the requested operation or a parameter is not supported",
    ResponseStatus.PSA_ERROR_INVALID_ARGUMENT: "the parameters passed are invalid",
    ResponseStatus.PSA_ERROR_INVALID_HANDLE: "the key handle is not valid",
    ResponseStatus.PSA_ERROR_BAD_STATE: "the requested action cannot be performed in the current state",
    ResponseStatus.PSA_ERROR_BUFFER_TOO_SMALL: "an output buffer is too small",
    ResponseStatus.PSA_ERROR_ALREADY_EXISTS: "a key with that name already exists",
    ResponseStatus.PSA_ERROR_DOES_NOT_EXIST: "the key does not exist",
    ResponseStatus.PSA_ERROR_INSUFFICIENT_MEMORY: "there is not enough runtime memory",
    ResponseStatus.PSA_ERROR_INSUFFICIENT_STORAGE: "there is not enough persistent storage",
    ResponseStatus.PSA_ERROR_INSUFFICIENT_DATA: "insufficient data when attempting to read from a resource",
    ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE: "communication failure inside the implementation",
    ResponseStatus.PSA_ERROR_STORAGE_FAILURE: "there was a storage failure that may have led to data loss",
    ResponseStatus.PSA_ERROR_HARDWARE_FAILURE: "a hardware failure was detected",
    ResponseStatus.PSA_ERROR_INSUFFICIENT_ENTROPY: "there is not enough entropy to generate random data",
    ResponseStatus.PSA_ERROR_INVALID_SIGNATURE: "the signature, MAC or hash is incorrect",
    ResponseStatus.PSA_ERROR_INVALID_PADDING: "the decrypted padding is incorrect",
    ResponseStatus.PSA_ERROR_CORRUPTION_DETECTED: "a tampering attempt was detected",
    ResponseStatus.PSA_ERROR_DATA_CORRUPT: "stored data has been corrupted",
    ResponseStatus.PSA_ERROR_DATA_INVALID: "data read from storage is not valid for the implementation",
}


class ParsecError(Exception):
    """An operation failed with a Parsec status. The message is for logs and humans."""

    def __init__(self, status: ResponseStatus | int, message: str = "") -> None:
        self.status = ResponseStatus(status)
        self.message = message or self.status.description
        super().__init__(f"{self.status.parsec_name}: {self.message}")


def status_name(value: int) -> str:
    try:
        return ResponseStatus(value).parsec_name
    except ValueError:
        return f"UnknownStatus({value})"
