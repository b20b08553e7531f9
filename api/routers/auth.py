"""Login, logout and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.deps import PUBLIC, Services, allow, authenticated_claims, client_address, get_services, revoked_key
from api.schemas import ALL_ROLES
from api.tokens import TokenClaims, issue_token
from registry.principals import Principal
from registry.services.participants import authenticate, get_participant

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: str
    roles: list[str]


class Me(BaseModel):
    user_id: int
    username: str
    participant_id: int
    participant_name: str
    participant_status: str
    roles: list[str]


@router.post("/login", response_model=TokenResponse)
def login(body: LoginRequest, request: Request, _: None = Depends(PUBLIC),
          services: Services = Depends(get_services)) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    client = client_address(request)
    attempts = services.kv.incr_window(f"carbonx:login:{client}:{body.username}", 60)
    if attempts > services.settings.login_attempts_per_minute:
        raise HTTPException(429, "Too many login attempts; wait a minute.", headers={"Retry-After": "60"})
    with services.registry.uow() as uow:
        principal = authenticate(uow, body.username, body.password)
    if principal is None:
        raise HTTPException(401, "Wrong username or password.", headers={"WWW-Authenticate": "Bearer"})
    token, claims = issue_token(services.settings, principal.user_id, services.registry.clock.now())
    return TokenResponse(access_token=token, expires_at=claims.expires_at.isoformat(),
                         roles=sorted(principal.roles))


@router.post("/logout", status_code=204)
def logout(_: Principal = Depends(allow(*ALL_ROLES)), claims: TokenClaims = Depends(authenticated_claims),
           services: Services = Depends(get_services)) -> None:
    """Revoke this token (its jti is remembered until it would have expired)."""
    remaining = int((claims.expires_at - services.registry.clock.now()).total_seconds())
    services.kv.set_with_ttl(revoked_key(claims.jti), "1", remaining + 60)


@router.get("/me", response_model=Me)
def me(principal: Principal = Depends(allow(*ALL_ROLES)), services: Services = Depends(get_services)) -> Me:
    """Who the token belongs to, with its organisation and roles."""
    with services.registry.uow(principal) as uow:
        participant = get_participant(uow, principal.participant_id)
        return Me(user_id=principal.user_id, username=principal.username, participant_id=participant.id,
                  participant_name=participant.name, participant_status=participant.status,
                  roles=sorted(principal.roles))
