"""What every route can depend on: the services of this app and the caller's identity and roles.

Deny by default: every route carries exactly one `Access` dependency naming the roles that may call it
(or PUBLIC); `api.app.create_app` refuses to start when a route has none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.exchange import Exchange
from api.kv import KeyValueStore
from api.settings import Settings
from api.tokens import InvalidToken, TokenClaims, decode_token
from registry.context import Registry
from registry.principals import Principal
from registry.services.participants import load_principal

log = logging.getLogger("carbonx.api")
bearer = HTTPBearer(auto_error=False, description="The access token from POST /auth/login")


@dataclass
class Services:
    registry: Registry
    settings: Settings
    kv: KeyValueStore
    exchange: Exchange


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def revoked_key(jti: str) -> str:
    return f"carbonx:revoked:{jti}"


def _unauthenticated(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate_request(
    services: Services, credentials: HTTPAuthorizationCredentials | None
) -> tuple[Principal, TokenClaims] | None:
    """The principal behind a bearer token, None without a token; 401 for a bad, expired or revoked one."""
    if credentials is None:
        return None
    try:
        claims = decode_token(services.settings, credentials.credentials, services.registry.clock.now())
    except InvalidToken as exc:
        raise _unauthenticated("The access token is invalid or expired.") from exc
    if services.kv.exists(revoked_key(claims.jti)):
        raise _unauthenticated("The access token was revoked (logged out).")
    with services.registry.uow() as uow:
        principal = load_principal(uow, claims.user_id)
    if principal is None:
        raise _unauthenticated("The user of this token no longer exists or is disabled.")
    return principal, claims


def _rate_limit(services: Services, request: Request, principal: Principal | None) -> None:
    who = f"u{principal.user_id}" if principal else f"ip{request.client.host if request.client else '-'}"
    window = int(services.registry.clock.now().timestamp() // 60)
    try:
        count = services.kv.incr_window(f"carbonx:rate:{who}:{window}", 60)
    except redis.RedisError:
        log.warning("rate limiting skipped: Redis unavailable")  # fail open: limits protect, they do not gate
        return
    if count > services.settings.rate_limit_per_minute:
        raise HTTPException(429, "Too many requests; slow down.", headers={"Retry-After": "60"})


class Access:
    """A route's access rule. `roles` empty with public=True means anyone, including the anonymous."""

    def __init__(self, *roles: str, public: bool = False) -> None:
        if public == bool(roles):
            raise ValueError("an Access is either public or names its roles")
        self.roles = frozenset(roles)
        self.public = public

    def __call__(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal | None:
        services = get_services(request)
        found = authenticate_request(services, credentials)
        principal = found[0] if found else None
        if principal is not None:
            request.state.principal_id = principal.user_id  # for the request's log line
        _rate_limit(services, request, principal)
        if self.public:
            return principal
        if principal is None:
            raise _unauthenticated("Log in first: this route needs a bearer token.")
        if not principal.has(*self.roles):
            raise HTTPException(403, f"This action needs one of the roles: {', '.join(sorted(self.roles))}.")
        return principal

    def describe(self) -> list[str]:
        return ["public"] if self.public else sorted(self.roles)


PUBLIC = Access(public=True)


def allow(*roles: str) -> Access:
    """The access rule for a route that only these roles may call."""
    return Access(*roles)


def authenticated_claims(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> TokenClaims:
    """The verified claims of the caller's token (for logout)."""
    found = authenticate_request(get_services(request), credentials)
    if found is None:
        raise _unauthenticated("Log in first: this route needs a bearer token.")
    return found[1]
