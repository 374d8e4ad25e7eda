"""Credentials at rest: encrypted (Fernet), key derived from SECRET_KEY or a dedicated key,
rotatable, shown masked, and scrubbed from every log line."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet

from crm_bridge.credentials import (
    CredentialsError,
    RedactSecretsFilter,
    decrypt_credentials,
    encrypt_credentials,
    install_log_filter,
    mask_secret,
    masked,
    rotate_credentials,
)

SECRETS = {"api_key": "key-一二三-0123456789abcdef", "api_secret": "秘密-secret-value-xyz"}


def test_round_trip_with_chinese_values() -> None:
    token = encrypt_credentials(SECRETS)
    assert decrypt_credentials(token) == SECRETS
    for value in SECRETS.values():
        assert value not in token
    assert encrypt_credentials({}) == "" and decrypt_credentials("") == {}
    assert encrypt_credentials({"a": "", "b": "x"}) != "" and decrypt_credentials(encrypt_credentials({"a": ""})) == {}


def test_a_changed_secret_key_cannot_decrypt(settings: Any) -> None:
    token = encrypt_credentials(SECRETS)
    settings.SECRET_KEY = "another-secret-key-entirely"
    with pytest.raises(CredentialsError, match="Enter the credentials again"):
        decrypt_credentials(token)


def test_dedicated_key_and_rotation(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ERP_CREDENTIALS_KEY = old
    token = encrypt_credentials(SECRETS)
    settings.SECRET_KEY = "rotated-django-secret"  # sessions rotate; ERP passwords survive
    settings.ERP_CREDENTIALS_KEY = f"{new},{old}"
    assert decrypt_credentials(token) == SECRETS
    rotated = rotate_credentials(token)
    settings.ERP_CREDENTIALS_KEY = new
    assert decrypt_credentials(rotated) == SECRETS
    with pytest.raises(CredentialsError):
        decrypt_credentials(token)


def test_a_malformed_key_is_a_clear_error(settings: Any) -> None:
    settings.ERP_CREDENTIALS_KEY = "not-a-fernet-key"
    with pytest.raises(CredentialsError, match="HUB_ERP_CREDENTIALS_KEY"):
        encrypt_credentials(SECRETS)


def test_masking() -> None:
    assert mask_secret("0123456789abcdef") == "••••cdef"
    assert mask_secret("short-pw") == "••••"
    assert mask_secret("") == ""
    assert masked({"a": "0123456789abcdefghij", "b": "pw"}) == {"a": "••••ghij", "b": "••••"}


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(logging.Formatter("%(message)s %(extra_field)s"))
    logger = logging.getLogger("tests.crm_bridge.secrets")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_secrets_never_reach_a_log_line() -> None:
    decrypt_credentials(encrypt_credentials(SECRETS))  # the process now knows these values
    logger, stream = _capture()
    key = SECRETS["api_key"]
    logger.info("calling ERP with Authorization: token %s:%s", key, SECRETS["api_secret"], extra={"extra_field": key})
    try:
        raise RuntimeError(f"request failed: headers={{'Authorization': 'token {key}'}}")
    except RuntimeError:
        logger.exception("sync failed for %s", "source 3", extra={"extra_field": "-"})
    output = stream.getvalue()
    assert "calling ERP" in output and "RuntimeError" in output and "source 3" in output
    for value in SECRETS.values():
        assert value not in output
    assert output.count("[redacted]") >= 4


def test_the_filter_sits_on_the_root_handlers() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        install_log_filter()
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
        install_log_filter()
        assert sum(isinstance(f, RedactSecretsFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_adapter_errors_do_not_carry_credentials(odoo_fake: Any) -> None:
    from crm_bridge.sources.base import SourceError
    from crm_bridge.sources.odoo import OdooConfig, odoo_from_config

    config = OdooConfig.model_validate({"url": odoo_fake.url, "database": "teashop", "protocol": "json2"})
    source = odoo_from_config(config, {"api_key": "wrong-key-0123456789abcdef"})
    with pytest.raises(SourceError) as caught:
        source.get(source.resolve("SO-1001") or None)  # type: ignore[arg-type]
    assert "wrong-key-0123456789abcdef" not in str(caught.value)
