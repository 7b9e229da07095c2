"""The providers' answers are the pinned ones (issue 12): ListOpcodes lists exactly the pinned
opcodes, and CanDoCrypto answers every cell of the grid exactly as pinned in
capabilities/pinned_<provider>.py. A provider that gains or loses a capability fails here, by
name; the rest of this directory then runs (or refuses) exactly what the tables say."""

from __future__ import annotations

from capabilities import GRID, Pinned, probe

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus


def _names(ops: set[Opcode] | frozenset[Opcode]) -> list[str]:
    return sorted(op.name for op in ops)


def test_list_opcodes_is_pinned(client: BasicClient, table: Pinned) -> None:
    pid = int(client.provider)
    listed = {Opcode(op) for op in client.list_opcodes(pid, include_extensions=True)}
    assert _names(listed - table.opcodes) == [], "listed, not pinned"
    assert _names(table.opcodes - listed) == [], "pinned, not listed"
    plain = {Opcode(op) for op in client.list_opcodes(pid)}
    assert _names(plain ^ table.plain_opcodes) == [], "plain ListOpcodes"


def test_can_do_crypto_is_pinned(client: BasicClient, table: Pinned) -> None:
    got = probe(client, GRID.values())
    wrong = [f"{cid}: pinned {want.name}, answered {got[cid].name}"
             for cid, cell in GRID.items()
             if got[cid] != (want := table.status(cell.check, cell.key_type, cell.bits, cell.alg))]
    assert wrong == [], f"{len(wrong)} of {len(GRID)} cells differ:\n" + "\n".join(wrong)


def test_every_pinned_status_is_a_can_do_crypto_answer(table: Pinned) -> None:
    """Success, NotSupported, or NotPermitted (algorithm and key type do not fit: the PKCS#11
    provider's answer, which Parsec's book allows); nothing else is a CanDoCrypto answer."""
    assert set(table.answers.values()) <= {ResponseStatus.SUCCESS,
                                           ResponseStatus.PSA_ERROR_NOT_PERMITTED}
