"""Fuzz target 4: the key store at rest is input too. One stored key's row is changed (its
attributes or its wrapped material: bytes flipped, cut or extended, any protobuf, other valid
attributes), a service is started on it, and the application uses its keys, destroys one, and
is deleted by the admin: every answer must still be a well-formed Parsec response, with no
internal error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fuzz.budget import fuzz_seconds, fuzz_settings, run_for
from fuzz.store import COLUMNS, KEYS, changed, service_on_changed_copy, stored, use_every_key
from fuzz.strategies import key_attributes, protobuf_wire
from pqparsec.protocol.psa import convert as cv


@st.composite
def changes(draw: st.DrawFn) -> tuple[str, str, str, int, bytes]:
    how = draw(st.sampled_from(["flip", "cut", "extend", "replace", "attributes"]))
    data = b""
    if how == "extend":
        data = draw(st.binary(min_size=1, max_size=16))
    elif how == "replace":
        data = draw(protobuf_wire | st.binary(max_size=64))
    elif how == "attributes":
        how, data = "replace", cv.attributes_to_bytes(draw(key_attributes()))
    return (draw(st.sampled_from(sorted(KEYS))), draw(st.sampled_from(COLUMNS)), how,
            draw(st.integers(0, 2**16)), data)


def test_fuzz_store_at_rest(pristine_store: Path) -> None:
    @fuzz_settings(10)
    @given(changes())
    def round_(change: tuple[str, str, str, int, bytes]) -> None:
        key, column, how, at, data = change
        value = changed(stored(pristine_store / "kim.sqlite3", key, column), how, at, data)
        with service_on_changed_copy(pristine_store, key, column, value) as service:
            use_every_key(service)

    run_for(fuzz_seconds("store"), round_)
