"""The tests' helpers, as a package: pytest finds it through `pythonpath = ["tests"]` in
pyproject.toml.

- `service`: `ServiceProcess` (a real `pqparsec serve --config` child process on its own socket,
  started and stopped per test or module), `render_config` and `toml_value` (the config.toml it
  writes), `run_serve` (a service expected to exit at start-up), `wait_for` (polling),
  `public_tmpdir` (a directory every user can reach), `ROOT`, and `VECTORS` with
  `load_mock_vectors` (parsec-mock's golden request/response pairs).
- `wire`: raw bytes on the socket, without pqparsec's codec: `pack_wire_header`,
  `unpack_wire_header`, `wire_request`, `send_raw` (returns a `RawReply`), `read_until_eof`.
- `psa`: key attribute builders (`attrs`, `ecc_p256_sign_attrs`, `rsa_sign_attrs`).
- `status`: `expect_status(status)`, the block raises ServiceError with that status; and
  `raised_status(fn, *args)`, the status `fn(*args)` is refused with.
- `softhsm`: `SoftHsm`, a SoftHSM2 configuration with its own token directory, and the
  `[[provider]]` table of a token.
- `swtpm`: `Swtpm`, a swtpm TPM 2.0 simulator process on a free localhost port pair.
- `cli`: `Cli`, the installed `pqparsec` command run against a service, and `run_openssl`.

Helpers only one directory uses stay there (`pkcs11/p11_helpers.py`, `pqc/pqc_vectors.py`,
`providers/capabilities/`).
"""
