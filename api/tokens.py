"""JWT issue and check. The only module that touches python-jose.

Every decode passes an explicit one-element algorithm list taken from the settings, so a token signed
with another algorithm (alg=none, or HS256 signed with an RS256 public key) is refused; exp, iat, iss,
aud and jti are all required and checked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jose import JWTError, jwt
from pydantic import SecretStr

from api.settings import Settings

log = logging.getLogger("carbonx.api")

# exp is required too, but checked below against the injectable clock (jose's require_exp would force
# its own wall-clock check).
JOSE_REQUIRED_CLAIMS = ("iat", "iss", "aud", "jti", "sub")
VERIFIED_TOKENS_KEPT = 4096
# (token, algorithm, key, issuer, audience) → its verified claims; times are checked on every use.
_verified: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
# The embedded first run's HS256 key, made on first start, in the data directory (see with_signing_key).
KEY_FILE = "jwt-signing.key"
KEY_BYTES = 48
JTI_MAX_LENGTH = 64  # what the revocation table holds (registry.orm.RevokedToken)


class InvalidToken(Exception):
    """The token is malformed, expired, forged or meant for someone else."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    jti: str
    expires_at: datetime


def with_signing_key(settings: Settings, database_backend: str) -> Settings:
    """The settings with the HS256 key this process signs and checks with: CARBONX_JWT_SECRET when set; else,
    for the embedded first run on SQLite only, a random key made on first start and kept in the data
    directory (mode 0600), the same on every later start. With PostgreSQL the key must be configured: the
    processes and hosts sharing the database must share the key, and a file on one host cannot promise that."""
    if settings.jwt_algorithm != "HS256" or settings.jwt_secret is not None:
        return settings
    if database_backend != "sqlite":
        raise RuntimeError(
            "Set CARBONX_JWT_SECRET (a long random string, e.g. from `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`), the same for every process and host: with PostgreSQL the "
            "service does not make its own key, since several processes and hosts must sign with one key.")
    key = kept_key(settings.data_dir / KEY_FILE)
    return settings.model_copy(update={"jwt_secret": SecretStr(key)})


def kept_key(path: Path) -> str:
    """The key kept in `path`, made at random (readable by its owner only) when there is none. Two processes
    starting at once agree: the key is written to a file of its own, then linked into place only if no other
    key got there first, so `path` never holds a partial key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made the key first: use that one
                os.link(draft, path)
        finally:
            draft.unlink()
        log.info("made a new token signing key in %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the token signing key %s was readable by others (mode %o): now 0600", path, mode)
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"The token signing key in {path} is too short: delete the file to make a new one "
                           "(every token issued so far becomes invalid), or set CARBONX_JWT_SECRET.")
    return key


def _hs256_key(settings: Settings) -> str:
    if settings.jwt_secret is None:
        raise RuntimeError("No token signing key: set CARBONX_JWT_SECRET (api.tokens.with_signing_key)")
    return settings.jwt_secret.get_secret_value()


def _signing_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        if settings.jwt_private_key_pem is None:
            raise RuntimeError("RS256 needs CARBONX_JWT_PRIVATE_KEY_PEM")
        return settings.jwt_private_key_pem.get_secret_value()
    return _hs256_key(settings)


def _verifying_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        if settings.jwt_public_key_pem is None:
            raise RuntimeError("RS256 needs CARBONX_JWT_PUBLIC_KEY_PEM")
        return settings.jwt_public_key_pem
    return _hs256_key(settings)


def issue_token(settings: Settings, user_id: int, now: datetime) -> tuple[str, TokenClaims]:
    """A signed access token for `user_id`, valid for the configured minutes from `now`."""
    expires = now + timedelta(minutes=settings.access_token_minutes)
    jti = uuid.uuid4().hex
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": jti,
    }
    token = jwt.encode(claims, _signing_key(settings), algorithm=settings.jwt_algorithm)
    return token, TokenClaims(user_id, jti, expires)


def _verified_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a token whose signature, algorithm, issuer, audience and required claims hold. What this
    checks cannot change for a given token and key, so the answer is remembered (a few thousand tokens at
    most): checking a signature is most of the CPU an authenticated request costs."""
    key = _verifying_key(settings)
    remembered = (token, settings.jwt_algorithm, key, settings.jwt_issuer, settings.jwt_audience)
    claims = _verified.get(remembered)
    if claims is not None:
        return claims
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != settings.jwt_algorithm:
            raise InvalidToken("unexpected algorithm")
        claims = jwt.decode(
            token,
            key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require_" + c: True for c in JOSE_REQUIRED_CLAIMS} | {"verify_exp": False, "verify_nbf": False},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if len(_verified) >= VERIFIED_TOKENS_KEPT:
        _verified.clear()
    _verified[remembered] = claims
    return claims


def decode_token(settings: Settings, token: str, now: datetime) -> TokenClaims:
    """Check signature, algorithm, issuer, audience, times and required claims; raise InvalidToken.
    (Revocation is the caller's to check: see api.deps.)"""
    claims = _verified_claims(settings, token)
    # Expiry is checked against the injectable clock rather than the wall clock, so the demo's
    # time travel and the tests see the same rule.
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    if not isinstance(exp, int) or exp <= int(now.timestamp()):
        raise InvalidToken("token expired")
    if not isinstance(nbf, int) or nbf > int(now.timestamp()) + 60:
        raise InvalidToken("token not yet valid")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("bad subject") from exc
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > JTI_MAX_LENGTH:
        raise InvalidToken("bad jti")
    return TokenClaims(user_id, jti, datetime.fromtimestamp(exp, tz=now.tzinfo))
