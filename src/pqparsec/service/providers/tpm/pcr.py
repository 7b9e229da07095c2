"""Keys bound to platform state: the TPM policy of a PCR-bound key, and the policy session that
satisfies it on each use (docs/providers-tpm.md, "Keys bound to PCR values").

A bound key is created with `userWithAuth` clear and `authPolicy` =
PolicyPCR(selection, pcrDigest) then PolicyAuthValue, so signing or decrypting with it needs a
policy session in which the TPM itself checked the PCRs *and* the key's random authorisation
value (kept in the key store, as for every key) was proven by HMAC. Knowing the blob is not
enough without the PCR state, and the PCR state is not enough without the blob. Admin-role
commands (ActivateCredential, Certify of the key as the attested object) still take the
authorisation value alone (`adminWithPolicy` clear): they prove the key exists, they do not
use it. Duplication needs a policy naming TPM2_Duplicate, which this one never does.

The policy digest is computed here rather than with a trial session (no TPM round trip; a test
checks the two agree). PolicyPCR is sent with the stored pcrDigest, so a changed PCR fails there
with TPM_RC_VALUE, before any authorisation value is used: a changed platform never counts
toward dictionary-attack lockout (the keys are noDA anyway).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_RC, TPM2_SE
from tpm2_pytss.types import TPM2B_DIGEST, TPML_PCR_SELECTION, TPMT_SYM_DEF

from pqparsec.protocol.psa import PCR_COUNT, Hash, PcrBinding
from pqparsec.protocol.psa.policy import not_permitted, not_supported
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.providers.tpm import device as tpm_device

log = logging.getLogger(__name__)

T = TypeVar("T")

# The banks a binding may name. The key's policy hash is its name algorithm (SHA-256), and
# TPM2_PolicyPCR hashes the PCR values with the session's (= the policy's) hash: a binding's
# digest is then the bank hash of the values only for the SHA-256 bank, the one every TPM 2.0
# PC-client platform has.
BANKS: dict[Hash, int] = {Hash.SHA_256: int(TPM2_ALG.SHA256)}
POLICY_HASH = Hash.SHA_256
TPM_CC_POLICY_PCR = 0x0000017F
TPM_CC_POLICY_AUTH_VALUE = 0x0000016B
PCR_SELECT_MIN = (PCR_COUNT + 7) // 8  # sizeofSelect: 3 bytes cover PCRs 0..23
READ_BATCH = 8  # TPM2_PCR_Read returns at most 8 digests per call
READ_TRIES = 5  # re-reads when a PCR changed between two batches


def check_bank(binding: PcrBinding) -> None:
    if binding.bank not in BANKS:
        raise not_supported(f"the TPM provider binds keys to the SHA_256 PCR bank only, not "
                            f"{binding.bank.name}")


def selection_bytes(bank: Hash, pcrs: tuple[int, ...]) -> bytes:
    """A marshalled TPML_PCR_SELECTION of one bank: what TPM2_PolicyPCR hashes into the policy."""
    bitmap = bytearray(PCR_SELECT_MIN)
    for i in pcrs:
        bitmap[i // 8] |= 1 << (i % 8)
    return ((1).to_bytes(4, "big") + BANKS[bank].to_bytes(2, "big") + bytes([PCR_SELECT_MIN])
            + bytes(bitmap))


def selection(bank: Hash, pcrs: tuple[int, ...]) -> Any:
    sel, _ = TPML_PCR_SELECTION.unmarshal(selection_bytes(bank, pcrs))
    return sel


def pcr_digest(bank: Hash, values: list[bytes]) -> bytes:
    """The binding's digest: the bank hash of the values in ascending PCR order."""
    return hashlib.new(bank.name.replace("_", "").lower(), b"".join(values)).digest()


def policy_digest(binding: PcrBinding) -> bytes:
    """authPolicy of a bound key: PolicyPCR(selection, digest), then PolicyAuthValue."""
    assert binding.digest, "a binding's digest is resolved before the key is made"
    h = hashlib.sha256
    d = b"\0" * POLICY_HASH.digest_size
    d = h(d + TPM_CC_POLICY_PCR.to_bytes(4, "big")
          + selection_bytes(binding.bank, binding.pcrs) + binding.digest).digest()
    return h(d + TPM_CC_POLICY_AUTH_VALUE.to_bytes(4, "big")).digest()


# -- on the TPM worker ------------------------------------------------------------------------

def read_values(dev: Any, bank: Hash, pcrs: tuple[int, ...]) -> list[bytes]:
    """The current values of `pcrs` (ascending), read consistently: TPM2_PCR_Read takes 8 at a
    time, so the batches are read again if the TPM's PCR update counter moved meanwhile."""
    for _ in range(READ_TRIES):
        values: list[bytes] = []
        counters = set()
        for start in range(0, len(pcrs), READ_BATCH):
            batch = pcrs[start:start + READ_BATCH]
            counter, _, digests = dev.ctx.pcr_read(selection(bank, batch))
            counters.add(int(counter))
            got = [bytes(d) for d in digests]
            if len(got) != len(batch):
                raise not_supported(f"this TPM has no {bank.name} PCR bank (or not PCRs "
                                    f"{', '.join(map(str, batch))} in it)")
            values += got
        if len(counters) == 1:
            return values
    raise ParsecError(ResponseStatus.PSA_ERROR_HARDWARE_FAILURE,
                      "the PCRs kept changing while they were read")


def resolve(dev: Any, binding: PcrBinding) -> tuple[PcrBinding, bytes]:
    """The binding with its digest (the PCRs' current values unless one was given), and the
    values it was computed from (empty when the caller gave the digest), kept to tell which PCR
    changed."""
    if binding.digest:
        return binding, b""
    values = read_values(dev, binding.bank, binding.pcrs)
    return PcrBinding(binding.pcrs, binding.bank, pcr_digest(binding.bank, values)), \
        b"".join(values)


def _plural(pcrs: list[int], one: str, many: str) -> str:
    return (f"PCR {pcrs[0]} {one}" if len(pcrs) == 1
            else f"PCRs {', '.join(map(str, pcrs))} {many}")


def state_changed(dev: Any, binding: PcrBinding, bound_values: bytes) -> ParsecError:
    """NotPermitted, naming the PCRs that changed when the bound values are known."""
    pcrs = list(binding.pcrs)
    size = binding.bank.digest_size
    changed: list[int] = []
    if len(bound_values) == size * len(pcrs):
        try:
            now = read_values(dev, binding.bank, binding.pcrs)
        except (ParsecError, tpm_device.TSS2_Exception):
            now = []
        changed = [i for n, i in enumerate(pcrs) if now
                   and now[n] != bound_values[n * size:(n + 1) * size]]
    if changed:
        what = _plural(changed, "no longer holds the value", "no longer hold the values")
    else:
        what = _plural(pcrs, "does not hold the value", "do not hold the values")
    message = f"platform state changed: {what} the key was bound to"
    # Logged whatever log_error_details says (no application or key name in it): a refused
    # bound key is an event an operator wants to see.
    log.warning("a PCR-bound key was refused: %s", message)
    return not_permitted(message)


@contextmanager
def policy_session(dev: Any, binding: PcrBinding, bound_values: bytes) -> Iterator[Any]:
    """A policy session satisfying a bound key's policy; flushed when done. NotPermitted if the
    PCRs no longer hold the bound values."""
    session = dev.ctx.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY,
                                         TPMT_SYM_DEF(algorithm=TPM2_ALG.NULL), TPM2_ALG.SHA256)
    with dev.transient(session):
        try:
            dev.ctx.policy_pcr(session, TPM2B_DIGEST(binding.digest),
                               selection(binding.bank, binding.pcrs))
        except tpm_device.TSS2_Exception as exc:
            if tpm_device.tpm_error(exc) == int(TPM2_RC.VALUE):
                raise state_changed(dev, binding, bound_values) from None
            raise
        dev.ctx.policy_auth_value(session)
        yield session


def authorized(dev: Any, binding: PcrBinding | None, bound_values: bytes,
               command: Callable[[Any], T]) -> T:
    """Run `command(session)` with the authorisation a key needs for user-role commands (sign,
    decrypt): the password session for an unbound key, a fresh policy session for a bound one.
    A PCR extended between PolicyPCR and the command (TPM_RC_PCR_CHANGED) gets one more try."""
    if binding is None:
        return command(ESYS_TR.PASSWORD)
    for attempt in range(2):
        with policy_session(dev, binding, bound_values) as session:
            try:
                return command(session)
            except tpm_device.TSS2_Exception as exc:
                err = tpm_device.tpm_error(exc)
                if err == int(TPM2_RC.PCR_CHANGED) and attempt == 0:
                    continue
                if err == int(TPM2_RC.PCR_CHANGED):
                    raise state_changed(dev, binding, bound_values) from None
                if err == int(TPM2_RC.POLICY_FAIL):
                    raise ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                                      "the stored PCR binding does not match the key's TPM "
                                      "policy") from None
                raise
    raise AssertionError("unreachable")
