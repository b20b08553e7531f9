"""What every route can depend on: the services of this app and the caller's identity and roles.

Deny by default: every route carries exactly one `Access` dependency naming the roles that may call it
(or PUBLIC); `api.app.create_app` refuses to start when a route has none.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.exchange.routing import Exchange
from api.kv import KeyValueStore
from api.settings import Settings
from api.tokens import InvalidToken, TokenClaims, decode_token
from registry.context import Registry
from registry.principals import Principal
from registry.services import sign_in
from registry.services.idempotency import Replayed
from registry.services.participants import load_principal

log = logging.getLogger("carbonx.api")
bearer = HTTPBearer(auto_error=False, description="The access token from POST /auth/login")


PRINCIPAL_TTL_S = 5.0  # how stale a user's roles and active flag may be at most (tokens outlive role changes)
PRINCIPALS_KEPT = 10_000


class Principals:
    """Users' current roles by id, read from the database at most every PRINCIPAL_TTL_S seconds per user:
    reading them is most of what authenticating a request costs, and no route changes them (only the
    database's administrator can, and that then takes effect within those seconds)."""

    def __init__(self, registry: Registry, ttl_s: float = PRINCIPAL_TTL_S) -> None:
        self._registry = registry
        self._ttl_s = ttl_s
        self._kept: dict[int, tuple[float, Principal | None]] = {}

    def get(self, user_id: int) -> Principal | None:
        now = time.monotonic()
        kept = self._kept.get(user_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        return self._load(user_id, now)

    async def get_async(self, user_id: int) -> Principal | None:
        """`get` for the event loop: a kept principal at once, a read of the database in the thread pool."""
        now = time.monotonic()
        kept = self._kept.get(user_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        return await run_in_threadpool(self._load, user_id, now)

    def _load(self, user_id: int, now: float) -> Principal | None:
        with self._registry.uow() as uow:
            principal = load_principal(uow, user_id)
        if len(self._kept) >= PRINCIPALS_KEPT:
            self._kept.clear()
        self._kept[user_id] = (now + self._ttl_s, principal)
        return principal


# The marker saying the store holds every revocation in force, and how long it vouches for that: a store that
# lost a key without losing the marker (a revocation whose copy failed, a snapshot restored) learns it again
# within these seconds.
REVOCATIONS_LOADED = "carbonx:revoked:loaded"
REVOCATIONS_RELOAD_S = 300


def _kept_s(expires_at: datetime, now: datetime) -> int:
    """How long a revocation's copy is kept: until its token has expired, and a minute more for clock skew."""
    return max(1, int((expires_at - now).total_seconds()) + 60)


class Revocations:
    """Revoked tokens. The database is their record (registry.services.sign_in); the key-value store holds a
    key per revoked token for the hot path, and a marker saying that it holds all of them. A request asks for
    both in the one round trip it makes anyway (with its rate counter); only when the marker is missing (Redis
    came back empty, or the marker's minutes ran out) is the database read, once, and the store filled again.
    So an emptied Redis does not reopen a closed door, and no request reads the database to learn that its
    token still stands."""

    def __init__(self, registry: Registry, kv: KeyValueStore) -> None:
        self._registry = registry
        self._kv = kv
        self._loading = threading.Lock()  # one reload at a time in this process; the others wait for it

    def revoke(self, claims: TokenClaims) -> None:
        """Record the revocation in the database, then copy it to the store."""
        with self._registry.uow() as uow:
            sign_in.revoke_token(uow, claims.jti, claims.user_id, claims.expires_at)
            uow.commit()
            now = uow.now()
        self._kv.set_with_ttl(revoked_key(claims.jti), "1", _kept_s(claims.expires_at, now))

    def reload(self) -> None:
        """Copy every revocation in force to the store, and the marker with them (all at once, so an emptying
        of the store cannot leave the marker without them); unless the marker is there already."""
        with self._loading:
            if self._kv.exists(REVOCATIONS_LOADED):
                return
            with self._registry.uow() as uow:
                in_force = sign_in.revocations_in_force(uow)
                now = uow.now()
            log.info("revocations copied to the key-value store again: %d in force", len(in_force))
            self._kv.set_many_with_ttl([(revoked_key(jti), "1", _kept_s(expires_at, now))
                                        for jti, expires_at in in_force]
                                       + [(REVOCATIONS_LOADED, "1", REVOCATIONS_RELOAD_S)])

    async def reload_and_check(self, jti: str) -> bool:
        """Whether the token is revoked, once the store has been filled again."""
        await run_in_threadpool(self.reload)
        return await self._kv.exists_async(revoked_key(jti))

    async def is_revoked(self, jti: str) -> bool:
        revoked, loaded = await self._kv.exists_each_async(revoked_key(jti), REVOCATIONS_LOADED)
        return revoked or (not loaded and await self.reload_and_check(jti))

    async def in_database(self, jti: str) -> bool:
        """Whether the token is revoked, from the database (when the store cannot answer)."""
        def read() -> bool:
            with self._registry.uow() as uow:
                return sign_in.is_revoked(uow, jti)

        return await run_in_threadpool(read)


@dataclass
class Services:
    registry: Registry
    settings: Settings
    kv: KeyValueStore
    exchange: Exchange
    principals: Principals = field(init=False)
    revocations: Revocations = field(init=False)

    def __post_init__(self) -> None:
        self.principals = Principals(self.registry)
        self.revocations = Revocations(self.registry, self.kv)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The app's services (async so that FastAPI calls it on the event loop, not in a pool thread)."""
    return services_of(request)


REPLAYED_HEADER = "Idempotent-Replayed"


def marked_if_replayed(response: Response, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer, with `Idempotent-Replayed: true` when it was given before (the same Idempotency-Key or
    client_order_id seen again); a first answer carries no such header."""
    if isinstance(answer, Replayed):
        response.headers[REPLAYED_HEADER] = "true"
    return answer


def client_address(request: Request) -> str:
    """The caller's address, which anonymous rate limits and login attempts count against: the peer's, or the
    client's that a trusted proxy forwarded (uvicorn believes X-Forwarded-For only from CARBONX_TRUSTED_PROXIES,
    none by default: api.cli.cmd_serve). Never read from a header here: any client can write one."""
    return request.client.host if request.client else "-"


def revoked_key(jti: str) -> str:
    return f"carbonx:revoked:{jti}"


def _unauthenticated(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _claims(services: Services, credentials: HTTPAuthorizationCredentials | None) -> TokenClaims | None:
    """The verified claims of the bearer token, None without one; 401 for a bad or expired one."""
    if credentials is None:
        return None
    try:
        return decode_token(services.settings, credentials.credentials, services.registry.clock.now())
    except InvalidToken as exc:
        raise _unauthenticated("The access token is invalid or expired.") from exc


async def _principal(services: Services, claims: TokenClaims) -> Principal:
    principal = await services.principals.get_async(claims.user_id)
    if principal is None:
        raise _unauthenticated("The user of this token no longer exists or is disabled.")
    return principal


def _revoked() -> HTTPException:
    return _unauthenticated("The access token was revoked (logged out).")


def _rate_counter(services: Services, who: str) -> str:
    """The key counting a caller's requests in the current minute."""
    return f"carbonx:rate:{who}:{int(services.registry.clock.now().timestamp() // 60)}"


def _too_many() -> HTTPException:
    return HTTPException(429, "Too many requests; slow down.", headers={"Retry-After": "60"})


async def count_as_requests(services: Services, principal: Principal, requests: int) -> None:
    """Count `requests` more against the caller's rate (429 over it): a batch route weighs what it carries,
    so fifty orders in one request cost what fifty requests would. Called before anything of it is done."""
    if requests <= 0:
        return
    try:
        count = await services.kv.incr_window_async(_rate_counter(services, f"u{principal.user_id}"), 60, requests)
    except redis.RedisError:
        return  # fail open, as the gate does
    if count > services.settings.rate_limit_per_minute:
        raise _too_many()


async def _gate(services: Services, request: Request, claims: TokenClaims | None) -> None:
    """Refuse a revoked token (401) and a caller over its rate (429), asking Redis once for both (and the
    database only when Redis came back empty or is down: see Revocations)."""
    who = f"u{claims.user_id}" if claims else f"ip{client_address(request)}"
    counter = _rate_counter(services, who)
    kv = services.kv
    try:
        if claims is None:
            revoked, count = False, await kv.incr_window_async(counter, 60)
        else:
            (revoked, loaded), count = await kv.exists_each_and_incr_window_async(
                (revoked_key(claims.jti), REVOCATIONS_LOADED), counter, 60)
            if not revoked and not loaded:  # the store came back empty: it learns the revocations again
                revoked = await services.revocations.reload_and_check(claims.jti)
    except redis.RedisError:
        # Revocation is never skipped: the database answers it while Redis cannot.
        if claims is not None and await services.revocations.in_database(claims.jti):
            raise _revoked() from None
        log.warning("rate limiting skipped: Redis unavailable")  # fail open: limits protect, they do not gate
        return
    if revoked:
        raise _revoked()
    if count > services.settings.rate_limit_per_minute:
        raise _too_many()


class Access:
    """A route's access rule. `roles` empty with public=True means anyone, including the anonymous."""

    def __init__(self, *roles: str, public: bool = False) -> None:
        if public == bool(roles):
            raise ValueError("an Access is either public or names its roles")
        self.roles = frozenset(roles)
        self.public = public

    async def __call__(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal | None:
        # On the event loop: verifying the token is a few microseconds of CPU, Redis is awaited, and only a
        # principal not read in the last PRINCIPAL_TTL_S seconds goes to the thread pool for the database.
        services = services_of(request)
        claims = _claims(services, credentials)
        await _gate(services, request, claims)
        principal = await _principal(services, claims) if claims else None
        if principal is not None:
            request.state.principal_id = principal.user_id  # for the request's log line
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


async def authenticated_claims(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> TokenClaims:
    """The verified claims of the caller's token (for logout)."""
    services = services_of(request)
    claims = _claims(services, credentials)
    if claims is None:
        raise _unauthenticated("Log in first: this route needs a bearer token.")
    if await services.revocations.is_revoked(claims.jti):
        raise _revoked()
    await _principal(services, claims)
    return claims
