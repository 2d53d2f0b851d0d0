"""Structured logs never carry a secret; the secrets file is encrypted, authenticated and written atomically."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest

from arbx_pipelines.config.secrets import SecretsError, decrypt_secrets, encrypt_secrets, save_secrets
from arbx_pipelines.logs import configure_logging, get_logger, register_secret, scrub


def _capture(fmt: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt, stream=stream)
    return stream


def test_registered_secret_is_masked_in_message_args_and_extras() -> None:
    stream = _capture("json")
    register_secret("sk-live-0123456789abcdef")
    get_logger("test").info(
        "signing with %s", "sk-live-0123456789abcdef", extra={"venue": "okx", "key": "sk-live-0123456789abcdef"}
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["msg"] == "signing with ***"
    assert line["key"] == "***" and line["venue"] == "okx"
    assert "0123456789abcdef" not in stream.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "GET /api?apiKey=abcd1234&symbol=BTC",
        "headers {'X-MBX-APIKEY': 'abcd1234'}",
        "OK-ACCESS-PASSPHRASE: abcd1234",
        'payload {"secret": "abcd1234"}',
        "passphrase=abcd1234 signature=deadbeef",
    ],
)
def test_credential_shapes_are_masked_without_registration(text: str) -> None:
    cleaned = scrub(text)
    assert "abcd1234" not in cleaned and "deadbeef" not in cleaned
    assert "***" in cleaned


def test_key_value_format_is_one_parseable_line() -> None:
    stream = _capture("kv")
    get_logger("arbx.test").warning("order rejected", extra={"venue": "binance", "symbol": "BTC/USDT"})
    line = stream.getvalue().strip().splitlines()[-1]
    assert 'level=WARNING logger=arbx.test msg="order rejected" venue=binance symbol=BTC/USDT' in line


def test_library_loggers_are_scrubbed_too() -> None:
    register_secret("lib-secret-value-42")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    lib = logging.getLogger("somelib")
    lib.addHandler(handler)
    try:
        lib.warning("token %s", "lib-secret-value-42")
    finally:
        lib.removeHandler(handler)
    assert stream.getvalue().strip() == "token ***"


def test_secrets_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    secrets = {"okx": {"api_key": "okx-key-123456", "secret": "okx-secret-123456", "passphrase": "okx-pass-1"}}
    blob = encrypt_secrets(secrets, "correct horse", environ={})
    assert b"okx-secret-123456" not in blob
    assert decrypt_secrets(blob, "correct horse", environ={}) == secrets
    with pytest.raises(SecretsError, match="wrong passphrase or key"):
        decrypt_secrets(blob, "wrong horse", environ={})


def test_tampered_secrets_file_is_refused() -> None:
    blob = json.loads(encrypt_secrets({"a": {"b": "c"}}, "pw-pw-pw", environ={}))
    blob["ciphertext"] = blob["ciphertext"][:-4] + ("AAAA" if blob["ciphertext"][-4:] != "AAAA" else "BBBB")
    with pytest.raises(SecretsError, match="altered"):
        decrypt_secrets(json.dumps(blob).encode(), "pw-pw-pw", environ={})


def test_raw_key_from_environment(tmp_path: Path) -> None:
    env = {"ARBX_SECRETS_KEY": "11" * 32}
    blob = encrypt_secrets({"binance": {"api_key": "k" * 12}}, None, environ=env)
    assert decrypt_secrets(blob, None, environ=env) == {"binance": {"api_key": "k" * 12}}
    with pytest.raises(SecretsError, match="32 bytes"):
        decrypt_secrets(blob, None, environ={"ARBX_SECRETS_KEY": "abcd"})


def test_secrets_file_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    save_secrets(path, {"bitget": {"api_key": "x" * 10}}, "pw-pw-pw", environ={})
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert not (tmp_path / "secrets.enc.tmp").exists()
    assert decrypt_secrets(path.read_bytes(), "pw-pw-pw", environ={}) == {"bitget": {"api_key": "x" * 10}}
