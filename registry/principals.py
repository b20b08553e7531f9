"""Who is acting: the authenticated user, its organisation and its roles."""

from __future__ import annotations

from dataclasses import dataclass

REVIEWER_ROLES = frozenset({"center", "expert", "bureau"})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    participant_id: int
    username: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_reviewer(self) -> bool:
        return bool(self.roles & REVIEWER_ROLES)
