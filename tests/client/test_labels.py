"""Client-side key labels: storage, queries, pruning, per-application files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient, KeyNotFound, LabelStore, templates
from pqparsec.client.labels import data_dir, store_path
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import KeyNameRequest


def test_set_get_find_remove(client: BasicClient) -> None:
    for name in ("tls", "ssh", "plain"):
        client.generate_key(name, templates.ecc_signing())
    labels = client.labels
    labels.set("tls", role="server", owner="ops")
    labels.set("ssh", {"role": "client"})
    labels.add("tls", "production")
    assert labels.get("tls") == {"owner": "ops", "production": "", "role": "server"}
    assert labels.get("plain") == {}
    assert labels.find("role") == ["ssh", "tls"]
    assert labels.find("role", "server") == ["tls"]
    assert labels.find("production") == ["tls"]
    assert labels.find("nothing") == []
    assert labels.all() == {"ssh": {"role": "client"},
                            "tls": {"owner": "ops", "production": "", "role": "server"}}
    labels.set("tls", role="edge")  # replaces the value
    assert labels.find("role", "edge") == ["tls"]
    labels.remove("tls", "production")
    assert "production" not in labels.get("tls")
    labels.remove("tls")
    assert labels.get("tls") == {}


def test_labelling_a_missing_key_fails(client: BasicClient) -> None:
    with pytest.raises(KeyNotFound):
        client.labels.set("ghost", a="b")


def test_pruned_of_keys_that_no_longer_exist(client: BasicClient) -> None:
    client.generate_key("gone", templates.ecc_signing())
    client.generate_key("kept", templates.ecc_signing())
    client.labels.set("gone", tag="x")
    client.labels.set("kept", tag="x")
    # Destroy behind the label store's back (as another process would).
    client.call(Opcode.PSA_DESTROY_KEY, KeyNameRequest("gone"))
    assert client.labels.get("gone") == {"tag": "x"}  # get() does not ask the service
    assert client.labels.find("tag") == ["kept"]
    assert client.labels.get("gone") == {}  # pruned by the query
    assert client.labels.prune() == []


def test_destroy_key_forgets_labels(client: BasicClient) -> None:
    client.generate_key("k", templates.ecc_signing())
    client.labels.set("k", a="1")
    client.destroy_key("k")
    assert client.labels.get("k") == {}
    client.generate_key("k", templates.ecc_signing())  # same name, new key: no stale labels
    assert client.labels.get("k") == {}


def test_file_location_and_permissions(client: BasicClient, tmp_path: Path) -> None:
    # The client fixture points XDG_DATA_HOME at tmp_path/xdg.
    assert data_dir() == tmp_path / "xdg" / "pqparsec"
    client.generate_key("k", templates.ecc_signing())
    client.labels.set("k", a="1")
    path = tmp_path / "xdg" / "pqparsec" / "labels" / f"direct-{client.app_name}.sqlite3"
    assert client.labels.path == path
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_home_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir() == tmp_path / ".local" / "share" / "pqparsec"
    assert store_path("direct-a/b") == data_dir() / "labels" / "direct-a%2Fb.sqlite3"


def test_applications_have_separate_labels(direct_service: ServiceProcess,
                                           tmp_path: Path) -> None:
    a = BasicClient(app_name="labels-a", endpoint=direct_service.endpoint, labels_dir=tmp_path)
    b = BasicClient(app_name="labels-b", endpoint=direct_service.endpoint, labels_dir=tmp_path)
    for c in (a, b):
        c.generate_key("same-name", templates.ecc_signing())
    try:
        a.labels.set("same-name", who="a")
        assert b.labels.get("same-name") == {}
        assert b.labels.find("who") == []
        assert a.labels.path != b.labels.path
        assert a.labels.find("who", "a") == ["same-name"]
    finally:
        a.destroy_key("same-name")
        b.destroy_key("same-name")


def test_store_without_service(tmp_path: Path) -> None:
    store = LabelStore(tmp_path / "l.sqlite3", "unix:/x")
    assert store.get("k") == {}
    assert store.find("a") == []
    store.set("k", a="1")  # no existence check without a key source
    assert store.all() == {"k": {"a": "1"}}
    other_endpoint = LabelStore(tmp_path / "l.sqlite3", "unix:/y")
    assert other_endpoint.all() == {}


def test_concurrent_writers(client: BasicClient) -> None:
    client.generate_key("k", templates.ecc_signing())
    store = LabelStore(client.labels.path, client.endpoint)  # no service round trips
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                store.set("k", {f"l{i}-{j}": str(j)})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(store.get("k")) == 60
    assert os.path.exists(store.path)
