"""Fuzz target 3: key lifecycles against a model (a hypothesis state machine over the in-process
handler). Random sequences of create (generate or import), destroy, use, ListKeys, ListClients
and DeleteClient by two applications and the admin, each answer checked against what a model of
the key store says it must be: a create of an existing name is AlreadyExists and changes
nothing, a destroyed key is DoesNotExist everywhere at once, ListKeys and ListClients show
exactly the model's keys and applications, one application never sees the other's keys."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fuzz.budget import fuzz_seconds, fuzz_settings, run_for
from fuzz.harness import ADMIN, FuzzEnv, InProcessService
from pqparsec.client import templates
from pqparsec.client.errors import AlreadyExists, KeyNotFound
from pqparsec.protocol.psa import Hash, KeyAttributes, MacAlg, MacKind, SignAlg, SignKind

KEY_NAMES = st.sampled_from(["a", "b", "c", "d"])
# Fast to make, and each usable with the one operation `use` runs for it.
KINDS: dict[str, KeyAttributes] = {
    "ecc": templates.ecc_signing(),
    "hmac": templates.hmac(),
    "aes": templates.aead(bits=128, exportable=True),
}
_runs = itertools.count()


def lifecycle_machine(service: InProcessService) -> type[RuleBasedStateMachine]:
    class KeyLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            run = next(_runs)
            self.apps = [f"lc{run}-alice", f"lc{run}-bob"]
            self.clients = {app: service.client(app) for app in self.apps}
            self.admin = service.client(ADMIN)
            self.model: dict[str, dict[str, str]] = {app: {} for app in self.apps}

        def _exists(self, app: str, name: str) -> bool:
            return name in self.model[app]

        @rule(app=st.integers(0, 1), name=KEY_NAMES, kind=st.sampled_from(sorted(KINDS)),
              imported=st.booleans())
        def create(self, app: int, name: str, kind: str, imported: bool) -> None:
            a = self.apps[app]
            client = self.clients[a]
            existed = self._exists(a, name)
            try:
                if imported and kind != "ecc":
                    client.import_key(name, KINDS[kind], bytes(range(16 if kind == "aes" else 32)))
                else:
                    client.generate_key(name, KINDS[kind])
            except AlreadyExists:
                assert existed, (a, name)
                return
            assert not existed, (a, name)
            self.model[a][name] = kind

        @rule(app=st.integers(0, 1), name=KEY_NAMES)
        def destroy(self, app: int, name: str) -> None:
            a = self.apps[app]
            try:
                self.clients[a].destroy_key(name)
            except KeyNotFound:
                assert not self._exists(a, name), (a, name)
                return
            assert self.model[a].pop(name, None) is not None, (a, name)

        @rule(app=st.integers(0, 1), name=KEY_NAMES)
        def use(self, app: int, name: str) -> None:
            a = self.apps[app]
            client = self.clients[a]
            kind = self.model[a].get(name)
            try:
                if kind == "hmac" or (kind is None and name in "ac"):
                    client.mac_compute(name, MacAlg(MacKind.HMAC, Hash.SHA_256), b"data")
                elif kind == "aes":
                    assert len(client.export_key(name)) == 16
                else:
                    client.sign_hash(name, SignAlg(SignKind.ECDSA, Hash.SHA_256), bytes(32))
            except KeyNotFound:
                assert kind is None, (a, name, kind)
                return
            assert kind is not None, (a, name)

        @rule(app=st.integers(0, 1))
        def delete_client(self, app: int) -> None:
            a = self.apps[app]
            self.admin.delete_client(a)
            self.model[a].clear()

        @invariant()
        def listings_match_the_model(self) -> None:
            for a in self.apps:
                keys = self.clients[a].list_keys(include_extensions=True)
                assert {k.name: k.attributes for k in keys} == \
                    {n: KINDS[kind] for n, kind in self.model[a].items()}, (a, keys, self.model[a])
            listed = set(self.admin.list_clients())
            for a in self.apps:
                assert (a in listed) == bool(self.model[a]), (a, listed, self.model)

        def teardown(self) -> None:
            for a in self.apps:
                self.admin.delete_client(a)

    return KeyLifecycle


def test_fuzz_key_lifecycles(fuzz_env: FuzzEnv) -> None:
    machine = lifecycle_machine(fuzz_env.service)
    settings = fuzz_settings(2, stateful_step_count=30)
    run_for(fuzz_seconds("lifecycle"), lambda: run_state_machine_as_test(machine, settings=settings))
