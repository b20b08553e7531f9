"""JWT handling: explicit algorithm allow-list, required claims, expiry on the injectable clock."""

from __future__ import annotations

import ast
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from api.settings import Settings
from api.tokens import InvalidToken, decode_token, issue_token

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _settings(**kw: object) -> Settings:
    return Settings(jwt_secret="test-secret-0123456789abcdef0123456789", **kw)  # type: ignore[arg-type]


def test_round_trip() -> None:
    settings = _settings()
    token, claims = issue_token(settings, 42, NOW)
    decoded = decode_token(settings, token, NOW + timedelta(minutes=5))
    assert decoded.user_id == 42 and decoded.jti == claims.jti


def test_expiry_boundary_on_the_injected_clock() -> None:
    settings = _settings(access_token_minutes=10)
    token, _ = issue_token(settings, 1, NOW)
    decode_token(settings, token, NOW + timedelta(minutes=10) - timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        decode_token(settings, token, NOW + timedelta(minutes=10))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused() -> None:
    settings = _settings()
    claims = {"sub": "1", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "jti": "x",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(InvalidToken):
        decode_token(settings, token, NOW)


def test_hs256_signed_with_the_rsa_public_key_is_refused() -> None:
    """The algorithm-confusion attack of CVE-2024-33663: an RS256 server must not accept HS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    settings = _settings(jwt_algorithm="RS256", jwt_private_key_pem=private_pem, jwt_public_key_pem=public_pem)
    good, _ = issue_token(settings, 7, NOW)
    assert decode_token(settings, good, NOW).user_id == 7
    claims = {"sub": "7", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "jti": "x",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600}
    forged = jwt.encode(claims, "anything", algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_token(settings, forged, NOW)


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "aud", "iss", "sub"])
def test_every_required_claim_is_required(missing: str) -> None:
    settings = _settings()
    claims = {"sub": "1", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "jti": "j",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600}
    del claims[missing]
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_token(settings, token, NOW)


@pytest.mark.parametrize("claim,value", [("aud", "someone-else"), ("iss", "another-issuer")])
def test_wrong_audience_or_issuer_is_refused(claim: str, value: str) -> None:
    settings = _settings()
    claims = {"sub": "1", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "jti": "j",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600, claim: value}
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_token(settings, token, NOW)


def test_wrong_secret_is_refused() -> None:
    token, _ = issue_token(_settings(), 1, NOW)
    other = Settings(jwt_secret="another-secret-0123456789abcdef0123")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        decode_token(other, token, NOW)


def test_every_jwt_decode_in_the_code_passes_an_explicit_algorithm_list() -> None:
    """jose is used in one module only, and each jwt.decode call names its algorithms as a list."""
    users = [p for p in ROOT.glob("*/**/*.py") if ".venv" not in p.parts and "tests" not in p.parts
             and "jose" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in users] == ["api/tokens.py"]
    tree = ast.parse(users[0].read_text(encoding="utf-8"))
    decodes = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr == "decode" and isinstance(n.func.value, ast.Name) and n.func.value.id == "jwt"]
    assert decodes, "expected at least one jwt.decode call"
    for call in decodes:
        algorithms = [k for k in call.keywords if k.arg == "algorithms"]
        assert algorithms and isinstance(algorithms[0].value, ast.List)
