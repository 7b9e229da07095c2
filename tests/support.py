"""Test support: run a real `pqparsec serve` process on a real socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pqparsec.client import BasicClient
from pqparsec.protocol.header import HEADER_LEN, RawHeader, unpack_response

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(__file__).resolve().parent / "vectors"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def render_config(tmp: str, auth_type: str = "Direct", admins: list[str] | None = None,
                  providers: list[dict[str, Any]] | None = None,
                  core: dict[str, Any] | None = None, listener: dict[str, Any] | None = None,
                  key_manager: dict[str, Any] | None = None) -> str:
    core_t = {"allow_root": True, "log_level": "debug"}
    core_t.update(core or {})
    lis = {"listener_type": "DomainSocket", "timeout": 1000,
           "socket_path": os.path.join(tmp, "parsec.sock")}
    lis.update(listener or {})
    auth: dict[str, Any] = {"auth_type": auth_type}
    if admins:
        auth["admins"] = [{"name": a} for a in admins]
    kim = {"name": "sqlite-manager", "manager_type": "SQLite",
           "sqlite_db_path": os.path.join(tmp, "kim.sqlite3")}
    kim.update(key_manager or {})
    provs = providers if providers is not None else [{"provider_type": "MbedCrypto"}]
    out = []
    for name, table in (("core_settings", core_t), ("listener", lis), ("authenticator", auth)):
        out.append(f"[{name}]")
        out += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    out.append("[[key_manager]]")
    out += [f"{k} = {toml_value(v)}" for k, v in kim.items()]
    for p in provs:
        out.append("[[provider]]")
        p = {"key_info_manager": "sqlite-manager", **p}
        out += [f"{k} = {toml_value(v)}" for k, v in p.items()]
    return "\n".join(out) + "\n"


class ServiceProcess:
    """A `pqparsec serve --config` child process with its own temp dir."""

    def __init__(self, tmp: str | None = None, env: dict[str, str] | None = None,
                 **config: Any) -> None:
        self.tmp = tmp or tempfile.mkdtemp(prefix="pqp-test-")
        self.config_kwargs = config
        self.config_path = os.path.join(self.tmp, "config.toml")
        self.socket_path = (config.get("listener") or {}).get(
            "socket_path", os.path.join(self.tmp, "parsec.sock"))
        self.log_path = os.path.join(self.tmp, "service.log")
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"unix:{self.socket_path}"

    def write_config(self, **overrides: Any) -> None:
        kwargs = {**self.config_kwargs, **overrides}
        Path(self.config_path).write_text(render_config(self.tmp, **kwargs))

    def start(self, timeout: float = 20.0, write_config: bool = True) -> ServiceProcess:
        if write_config:
            self.write_config()
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pqparsec", "serve", "--config", self.config_path],
            cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log()}")
            if os.path.exists(self.socket_path):
                try:
                    if BasicClient(endpoint=self.endpoint, timeout=1.0).ping() == (1, 0):
                        return self
                except Exception:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"service did not start:\n{self.log()}")

    def client(self, app: str | None = None, **kw: Any) -> BasicClient:
        return BasicClient(app_name=app, endpoint=self.endpoint, timeout=kw.pop("timeout", 10.0),
                           **kw)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self, grace: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def raw(self, data: bytes, timeout: float = 5.0) -> tuple[RawHeader, bytes]:
        """Send raw bytes, read one response (header + body) until EOF."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket_path)
            s.sendall(data)
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        assert len(buf) >= HEADER_LEN, f"short response: {buf.hex()}"
        hdr = unpack_response(buf[:HEADER_LEN])
        return hdr, buf[HEADER_LEN:]


# ------------------------------------------------------------------------------------------------
# Raw-wire helpers for the service-core tests. They pack and parse the 36-byte header with their
# own struct (not pqparsec.protocol), so a bug in the codec under test cannot hide in the test.

import struct  # noqa: E402  (support.py is append-only for this section)

WIRE_MAGIC = 0x5EC0A710
WIRE_HEADER_LEN = 36
WIRE_FIELDS = ("magic", "header_size", "version_maj", "version_min", "flags", "provider", "session",
               "content_type", "accept_type", "auth_type", "body_len", "auth_len", "opcode", "status",
               "reserved1", "reserved2")
_WIRE = struct.Struct("<IHBBHBQBBBIHIHBB")
assert _WIRE.size == WIRE_HEADER_LEN


def pack_wire_header(**fields: int) -> bytes:
    """A 36-byte header; every field defaults to the valid value (magic, 30, 1.0, zeros)."""
    unknown = set(fields) - set(WIRE_FIELDS)
    if unknown:
        raise TypeError(f"unknown header fields {sorted(unknown)}")
    values = {name: 0 for name in WIRE_FIELDS}
    values.update(magic=WIRE_MAGIC, header_size=30, version_maj=1, version_min=0)
    values.update(fields)
    return _WIRE.pack(*(values[name] for name in WIRE_FIELDS))


def unpack_wire_header(data: bytes) -> dict[str, int]:
    return dict(zip(WIRE_FIELDS, _WIRE.unpack(data[:WIRE_HEADER_LEN]), strict=True))


def wire_request(opcode: int, body: bytes = b"", auth: bytes = b"", auth_type: int = 0,
                 provider: int = 0, session: int = 0, **over: int) -> bytes:
    """A whole request; body_len and auth_len follow the data unless overridden."""
    fields = dict(opcode=opcode, provider=provider, session=session, auth_type=auth_type,
                  body_len=len(body), auth_len=len(auth))
    fields.update(over)
    return pack_wire_header(**fields) + body + auth


class RawReply:
    """What came back on one connection: the parsed header (None if the service closed without
    answering), the body, the raw bytes and the time from the last byte sent to EOF."""

    def __init__(self, data: bytes, elapsed: float) -> None:
        self.data = data
        self.elapsed = elapsed
        self.header: dict[str, int] | None = (
            unpack_wire_header(data) if len(data) >= WIRE_HEADER_LEN else None)
        self.body = data[WIRE_HEADER_LEN:]

    @property
    def status(self) -> int:
        assert self.header is not None, f"no response (got {self.data.hex()})"
        return self.header["status"]

    def __repr__(self) -> str:
        return f"RawReply(header={self.header}, body={self.body.hex()}, elapsed={self.elapsed:.2f})"


def send_raw(path: str, data: bytes, timeout: float = 10.0) -> RawReply:
    """Connect, send `data`, read until EOF (the service closes after one response)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        t0 = time.monotonic()
        return RawReply(read_until_eof(s), time.monotonic() - t0)


def read_until_eof(s: socket.socket) -> bytes:
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy (returned) or raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value {last!r})")


def run_serve(config_path: str, timeout: float = 30.0,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `pqparsec serve --config` expecting it to exit by itself (a start-up failure)."""
    return subprocess.run([sys.executable, "-m", "pqparsec", "serve", "--config", config_path],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def load_mock_vectors() -> dict[str, tuple[bytes, bytes]]:
    """parsec-mock golden vectors: name -> (request bytes, response bytes)."""
    import base64
    import re
    out: dict[str, tuple[bytes, bytes]] = {}
    vdir = VECTORS / "parsec-mock" / "generator_output"
    for path in sorted(vdir.glob("*.test.yaml")):
        text = path.read_text()
        fields = dict(re.findall(r"^\s+(request|response|request_hex|response_hex): (\S+)\s*$",
                                 text, re.M))
        req, resp = bytes.fromhex(fields["request_hex"]), bytes.fromhex(fields["response_hex"])
        assert base64.b64decode(fields["request"]) == req, path
        assert base64.b64decode(fields["response"]) == resp, path
        out[path.name.removesuffix(".test.yaml")] = (req, resp)
    assert len(out) == 10, f"expected the 10 parsec-mock vectors in {vdir}, found {len(out)}"
    return out


def ecc_p256_sign_attrs(export: bool = False) -> Any:
    """ECC P-256 key pair for ECDSA(SHA-256) sign/verify hash (and message)."""
    from pqparsec.protocol.psa import (
        EccFamily,
        Hash,
        KeyAttributes,
        KeyPolicy,
        KeyType,
        SignAlg,
        SignKind,
        UsageFlags,
    )
    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(
        UsageFlags(export=export, sign_hash=True, verify_hash=True, sign_message=True,
                   verify_message=True), SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def rsa_sign_attrs(bits: int = 2048) -> Any:
    """RSA key pair for PKCS#1 v1.5 SHA-256 sign/verify hash."""
    from pqparsec.protocol.psa import (
        Hash,
        KeyAttributes,
        KeyPolicy,
        KeyType,
        SignAlg,
        SignKind,
        UsageFlags,
    )
    return KeyAttributes(KeyType.rsa_key_pair(), bits, KeyPolicy(
        UsageFlags(sign_hash=True, verify_hash=True),
        SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)))


def public_tmpdir(prefix: str = "pqp-") -> str:
    """A fresh directory under /tmp with mode 0755, reachable by every user (for sockets that
    other Unix users must connect to). The caller removes it."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d
