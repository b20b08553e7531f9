"""Sign-in answers: the token a login gives, and who a token belongs to."""

from __future__ import annotations

from pydantic import BaseModel


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
