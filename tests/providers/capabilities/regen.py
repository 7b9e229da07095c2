"""Rewrite the pinned tables from the live services, from the repository's root:

    PYTHONPATH=tests:tests/providers .venv/bin/python -m capabilities.regen [software|pkcs11|tpm ...]

(all three by default; SoftHSM2 and swtpm as for the tests). PYTHONPATH gives it the tests'
import paths, as pytest has them (`pqptest`, and `capabilities` beside tests/providers/conftest.py).

Starts each provider's service exactly as tests/providers/conftest.py does, asks ListOpcodes and
every cell of the grid, and rewrites `pinned_<provider>.py` here, keeping its docstring (the review
notes). The output is a claim about the code under test: read the diff against the provider's
documentation before committing it.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.status import ResponseStatus

try:
    from pqptest.service import ServiceProcess

    from capabilities import FAMILIES, GRID, probe
except ModuleNotFoundError as exc:  # run as a file, without the tests' import paths
    raise SystemExit(f"{exc}: run `PYTHONPATH=tests:tests/providers python -m capabilities.regen` "
                     "from the repository's root") from None

HERE = Path(__file__).resolve().parent

WIDTH = 96


def _providers_conftest() -> ModuleType:
    """tests/providers/conftest.py, where the providers' configurations are."""
    spec = importlib.util.spec_from_file_location("providers_conftest", HERE.parent / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conftest = _providers_conftest()


def _wrap(words: list[str], indent: int, joiner: str = " ") -> list[str]:
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > WIDTH - indent:
            lines.append(cur + joiner)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return lines


def _family_entries(answers: dict[str, ResponseStatus], status: ResponseStatus) \
        -> dict[str, dict[str, list[str]]]:
    """family -> key -> items, in grid order."""
    checks: dict[tuple[str, str, str], list[CheckType]] = defaultdict(list)
    order: list[tuple[str, str, str]] = []
    for cid, cell in GRID.items():
        if answers[cid] != status:
            continue
        if cell.family == "keys":
            key, item = cell.key_type.describe(), str(cell.bits)
        else:
            parts = cid.split(" ", 2)
            key, item = parts[1], parts[2] if len(parts) == 3 else "none"
        k = (cell.family, key, item)
        if k not in checks:
            order.append(k)
        checks[k].append(cell.check)
    out: dict[str, dict[str, list[str]]] = {}
    defaults = {f.name: f.checks for f in reversed(FAMILIES)}
    for fam, key, item in order:
        got = checks[(fam, key, item)]
        if tuple(sorted(got)) != tuple(sorted(defaults[fam])):
            item += "[" + ",".join(c.name.lower() for c in sorted(got)) + "]"
        out.setdefault(fam, {}).setdefault(key, []).append(item)
    return out


def _render_families(fams: dict[str, dict[str, list[str]]], indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for fam, entries in fams.items():
        lines.append(f'{pad}"{fam}": {{')
        for key, items in entries.items():
            head = f'{pad}    "{key}": '
            wrapped = _wrap(items, indent + 8)
            if len(wrapped) == 1 and len(head) + len(wrapped[0]) + 3 <= WIDTH + 14:
                lines.append(f'{head}"{wrapped[0]}",')
            else:
                lines.append(f"{head}(")
                lines += [f'{pad}        "{w}"' for w in wrapped]
                lines[-1] += "),"
        lines.append(f"{pad}}},")
    return lines


def render(name: str, docstring: str, opcodes: set[Opcode], plain: set[Opcode],
           answers: dict[str, ResponseStatus]) -> str:
    ext = sorted(opcodes - plain)
    out = [f'"""{docstring}"""', "", "# ListOpcodes with include_extensions (Opcode member names).",
           'OPCODES = """']
    out += _wrap([op.name for op in sorted(opcodes)], 0, "")
    out += ['"""', "# ...of which a plain ListOpcodes leaves out:", 'EXTENSION_OPCODES = """']
    out += _wrap([op.name for op in ext], 0, "") if ext else []
    out += ['"""', "", "# CanDoCrypto: Success.", "SUPPORTED: dict[str, dict[str, str]] = {"]
    out += _render_families(_family_entries(answers, ResponseStatus.SUCCESS), 4)
    out += ["}", "",
            "# CanDoCrypto: another status than Success or PsaErrorNotSupported (the rest of the grid).",
            "REFUSED: dict[str, dict[str, dict[str, str]]] = {"]
    others = sorted({s for s in answers.values()} - {ResponseStatus.SUCCESS,
                                                     ResponseStatus.PSA_ERROR_NOT_SUPPORTED})
    for status in others:
        out.append(f'    "{status.name}": {{')
        out += _render_families(_family_entries(answers, status), 8)
        out.append("    },")
    out.append("}")
    return "\n".join(out) + "\n"


def _service(name: str, tmp: str) -> Iterator[ServiceProcess]:
    make_table, _ = conftest.PROVIDERS[name]
    made = make_table(tmp)
    helper = made if isinstance(made, Iterator) else None
    table = next(helper) if helper is not None else made
    assert isinstance(table, dict)
    env = table.pop("__env__", None)
    svc = ServiceProcess(tmp, env=env, auth_type="Direct", providers=[table])
    try:
        yield svc.start()
    finally:
        svc.stop()
        if helper is not None:
            helper.close()


def main(names: list[str]) -> None:
    for name in names or sorted(conftest.PROVIDERS):
        path = HERE / f"pinned_{name}.py"
        doc = ast.get_docstring(ast.parse(path.read_text()), clean=False) if path.exists() else None
        with tempfile.TemporaryDirectory(prefix=f"pqp-regen-{name}-") as tmp:
            gen = _service(name, tmp)
            svc = next(gen)
            try:
                client = svc.client("regen")
                pid = int(client.provider)
                opcodes = {Opcode(o) for o in client.list_opcodes(pid, include_extensions=True)}
                plain = {Opcode(o) for o in client.list_opcodes(pid)}
                answers = probe(client, GRID.values())
            finally:
                gen.close()
        path.write_text(render(name, doc or f"The {name} provider: pinned answers.", opcodes, plain,
                               answers))
        print(f"{name}: {sum(s == ResponseStatus.SUCCESS for s in answers.values())} of "
              f"{len(answers)} cells supported; wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
