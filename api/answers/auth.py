"""Sign-in answers: the token a login gives, and who a token belongs to."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import Participant
from registry.principals import Principal


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


def me_out(principal: Principal, participant: Participant) -> Me:
    return Me(user_id=principal.user_id, username=principal.username, participant_id=participant.id,
              participant_name=participant.name, participant_status=participant.status, roles=sorted(principal.roles))
