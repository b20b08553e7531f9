"""Login, logout and who-am-I."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.answers.auth import Me, TokenResponse, me_out
from api.deps import PUBLIC, Services, allow, authenticated_claims, client_address, get_services
from api.problems import problem
from api.schemas import ALL_ROLES, OneLine
from api.settings import Settings
from api.tokens import TokenClaims, issue_token
from registry.principals import Principal
from registry.services.participants import get_participant
from registry.services.sign_in import LockoutPolicy, sign_in

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: Annotated[str, OneLine] = Field(min_length=1, max_length=64)
    password: Annotated[str, OneLine] = Field(min_length=1, max_length=200)


def lockout_policy(settings: Settings) -> LockoutPolicy:
    first = timedelta(seconds=settings.login_lockout_seconds)
    return LockoutPolicy(failures=settings.login_lockout_failures, first_lock=first,
                         longest_lock=max(first, timedelta(seconds=settings.login_lockout_max_seconds)))


@router.post("/login", response_model=TokenResponse, responses={
    429: {"description": "Too many attempts from this address, or the account is locked after repeated failed "
                         "logins (code `account_locked`); Retry-After says when to try again."}})
def login(body: LoginRequest, request: Request, _: None = Depends(PUBLIC),
          services: Services = Depends(get_services)) -> TokenResponse | JSONResponse:
    """Exchange a username and password for a bearer token. After repeated failed logins the account is locked
    for a while, longer with each further failure; an administrator can lift the lock."""
    client = client_address(request)
    attempts = services.kv.incr_window(f"carbonx:login:{client}:{body.username}", 60)
    if attempts > services.settings.login_attempts_per_minute:
        raise HTTPException(429, "Too many login attempts; wait a minute.", headers={"Retry-After": "60"})
    with services.registry.uow() as uow:
        outcome = sign_in(uow, body.username, body.password, lockout_policy(services.settings))
    if outcome.locked_until is not None:
        # The same answer whatever the password: while locked it is not even checked.
        wait_s = max(1, math.ceil((outcome.locked_until - services.registry.clock.now()).total_seconds()))
        return problem(429, "account_locked",
                       f"Too many failed logins: this account is locked. Try again in {wait_s} seconds, or ask "
                       "an administrator to unlock it.",
                       f"登录失败次数过多，该账户已被锁定。请在 {wait_s} 秒后重试，或请管理员解锁。",
                       request=request, headers={"Retry-After": str(wait_s)})
    principal = outcome.principal
    if principal is None:
        raise HTTPException(401, "Wrong username or password.", headers={"WWW-Authenticate": "Bearer"})
    token, claims = issue_token(services.settings, principal.user_id, services.registry.clock.now())
    return TokenResponse(access_token=token, expires_at=claims.expires_at.isoformat(),
                         roles=sorted(principal.roles))


@router.post("/logout", status_code=204)
def logout(_: Principal = Depends(allow(*ALL_ROLES)), claims: TokenClaims = Depends(authenticated_claims),
           services: Services = Depends(get_services)) -> None:
    """Revoke this token (recorded in the database until it would have expired; Redis keeps a copy)."""
    services.revocations.revoke(claims)


@router.get("/me", response_model=Me)
def me(principal: Principal = Depends(allow(*ALL_ROLES)), services: Services = Depends(get_services)) -> Me:
    """Who the token belongs to, with its organisation and roles."""
    with services.registry.uow(principal) as uow:
        return me_out(principal, get_participant(uow, principal.participant_id))
