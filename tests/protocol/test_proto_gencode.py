"""The committed *_pb2.py files are exactly what protoc makes of the committed .proto files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pqptest.service import ROOT

PROTO_DIR = ROOT / "src" / "pqparsec" / "protocol" / "proto"


def test_every_proto_has_its_generated_module() -> None:
    protos = {p.stem for p in PROTO_DIR.glob("*.proto")}
    generated = {p.name.removesuffix("_pb2.py") for p in PROTO_DIR.glob("*_pb2.py")}
    assert protos, "no .proto files found"
    assert protos == generated, (f"missing _pb2.py: {sorted(protos - generated)}; "
                                 f"orphan _pb2.py: {sorted(generated - protos)}")


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools (a dev dependency) is not installed")
    protos = sorted(str(p.relative_to(ROOT)) for p in PROTO_DIR.glob("*.proto"))
    run = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", "src", f"--python_out={tmp_path}", *protos],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out_dir = tmp_path / "pqparsec" / "protocol" / "proto"
    stale = []
    for proto in protos:
        name = Path(proto).stem + "_pb2.py"
        fresh = (out_dir / name).read_bytes()
        committed = (PROTO_DIR / name).read_bytes()
        if fresh != committed:
            stale.append(name)
    assert not stale, (
        f"stale generated code: {stale}. Regenerate from the repository root with "
        "`python -m grpc_tools.protoc -I src --python_out=src src/pqparsec/protocol/proto/*.proto`")
