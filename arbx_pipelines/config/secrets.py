"""Encrypted secrets file: AES-256-GCM, key from a passphrase via scrypt (or a raw key from the environment).

The file holds ``{"binance": {"api_key": ..., "secret": ...}, "okx": {..., "passphrase": ...}, ...}``.
Values are registered with the log scrubber as soon as they are decrypted, so they can never be logged.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from arbx_pipelines.config.loader import ConfigError, LoadedConfig
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.logs import register_secret

Secrets = dict[str, dict[str, str]]
RAW_KEY_ENV = "ARBX_SECRETS_KEY"
REQUIRED_FIELDS: dict[Venue, tuple[str, ...]] = {
    Venue.BINANCE: ("api_key", "secret"),
    Venue.OKX: ("api_key", "secret", "passphrase"),
    Venue.BITGET: ("api_key", "secret", "passphrase"),
}
NONCE_BYTES = 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


class SecretsError(ConfigError):
    """The secrets file cannot be read, decrypted or lacks a required value."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive_key(passphrase: str | None, salt: bytes, environ: Mapping[str, str]) -> bytes:
    raw = environ.get(RAW_KEY_ENV)
    if raw:
        try:
            key = bytes.fromhex(raw) if len(raw) == 64 else base64.b64decode(raw, validate=True)
        except ValueError as exc:  # binascii.Error is a ValueError
            raise SecretsError(
                f"${RAW_KEY_ENV}: not hex or base64; must be 32 bytes as 64 hex digits or base64"
            ) from exc
        if len(key) != 32:
            raise SecretsError(f"${RAW_KEY_ENV}: must be 32 bytes as 64 hex digits or base64")
        return key
    if not passphrase:
        raise SecretsError("secrets: no passphrase given (set the passphrase variable or $ARBX_SECRETS_KEY)")
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(passphrase.encode())


def encrypt_secrets(secrets: Secrets, passphrase: str | None, environ: Mapping[str, str] | None = None) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(NONCE_BYTES)
    key = _derive_key(passphrase, salt, os.environ if environ is None else environ)
    ciphertext = AESGCM(key).encrypt(nonce, json.dumps(secrets, sort_keys=True).encode(), b"arbx-secrets-v1")
    envelope = {
        "version": 1,
        "kdf": "scrypt",
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }
    return json.dumps(envelope, indent=1).encode()


def decrypt_secrets(blob: bytes, passphrase: str | None, environ: Mapping[str, str] | None = None) -> Secrets:
    try:
        envelope = json.loads(blob)
        salt, nonce = base64.b64decode(envelope["salt"]), base64.b64decode(envelope["nonce"])
        ciphertext = base64.b64decode(envelope["ciphertext"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SecretsError("secrets file is not an arbx secrets file (bad envelope)") from exc
    if len(nonce) != NONCE_BYTES or len(salt) < 16:
        raise SecretsError(
            f"secrets file: nonce of {len(nonce)} bytes, salt of {len(salt)} (an arbx secrets file has a "
            f"{NONCE_BYTES}-byte nonce and a 16-byte salt): the file is damaged or not arbx's"
        )
    key = _derive_key(passphrase, salt, os.environ if environ is None else environ)
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, b"arbx-secrets-v1")
    except InvalidTag as exc:
        raise SecretsError("secrets file: wrong passphrase or key, or the file was altered") from exc
    try:
        secrets: Secrets = json.loads(plain)
    except ValueError as exc:
        raise SecretsError("secrets file: the decrypted content is not JSON (not written by arbx)") from exc
    if not isinstance(secrets, dict) or not all(isinstance(v, dict) for v in secrets.values()):
        raise SecretsError("secrets file: the decrypted content is not {name: {field: value}} (not written by arbx)")
    for fields in secrets.values():
        for value in fields.values():
            register_secret(value)
    return secrets


def secrets_path(loaded: LoadedConfig) -> Path:
    path = Path(loaded.config.secrets.file)
    return path if path.is_absolute() else loaded.base_dir / path


def read_secrets_file(path: Path, passphrase: str | None, environ: Mapping[str, str] | None = None) -> Secrets:
    """Decrypt the secrets file at ``path``; an absent file means no secrets."""
    if not path.exists():
        return {}
    if not path.is_file():
        raise SecretsError(f"secrets.file = {str(path)!r}: is a directory, not a secrets file")
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise SecretsError(f"secrets.file = {str(path)!r}: cannot read: {exc.strerror}") from exc
    return decrypt_secrets(blob, passphrase, environ)


def load_secrets(loaded: LoadedConfig, environ: Mapping[str, str] | None = None) -> Secrets:
    """Decrypt the configured secrets file; an absent file means no secrets."""
    environ = os.environ if environ is None else environ
    return read_secrets_file(secrets_path(loaded), environ.get(loaded.config.secrets.passphrase_env), environ)


def save_secrets(
    path: Path, secrets: Secrets, passphrase: str | None, environ: Mapping[str, str] | None = None
) -> None:
    """Write atomically with owner-only permissions, so a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(encrypt_secrets(secrets, passphrase, environ))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def check_required_secrets(loaded: LoadedConfig, secrets: Secrets) -> None:
    """Modes that send real orders need every enabled venue's credentials."""
    mode = loaded.config.mode
    if mode not in (Mode.DEMO, Mode.LIVE):
        return
    for venue in loaded.config.enabled_venues():
        for field in REQUIRED_FIELDS[venue]:
            if not secrets.get(venue.value, {}).get(field):
                raise SecretsError(
                    f"secrets: {venue.value}.{field} is missing; mode '{mode.value}' needs it for enabled venue "
                    f"{venue.value} (add it with: arbx secrets set {venue.value} {field})"
                )
