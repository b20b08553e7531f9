"""Participants (organisations and individuals), their users and roles, and login."""

from __future__ import annotations

from collections.abc import Iterable

from registry.errors import Forbidden, NotFound, RuleViolation, StateConflict
from registry.orm import ROLES, Participant, User, UserRole
from registry.pagination import Page
from registry.passwords import hash_password, verify_password
from registry.principals import Principal
from registry.repositories import participants as participant_repo
from registry.unit_of_work import UnitOfWork
from rules import duties
from rules.violations import Violation


def create_participant(uow: UnitOfWork, *, name: str, kind: str, credit_code: str | None) -> Participant:
    """Admit an organisation or individual to the registry (admin)."""
    if credit_code and participant_repo.credit_code_taken(uow.session, credit_code):
        raise StateConflict(
            f"A participant with unified social credit code {credit_code} already exists.",
            f"统一社会信用代码 {credit_code} 的主体已存在。",
        )
    participant = Participant(name=name, kind=kind, credit_code=credit_code, status="active",
                              created_at=uow.now())
    uow.session.add(participant)
    uow.session.flush()
    uow.audit("participant.created", "participant", participant.id,
              {"name": name, "kind": kind, "credit_code": credit_code})
    return participant


def create_user(
    uow: UnitOfWork,
    *,
    participant_id: int,
    username: str,
    password: str,
    display_name: str,
    roles: Iterable[str],
) -> User:
    """Create a login for a participant with the given roles (admin)."""
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise StateConflict(f"Unknown roles: {', '.join(unknown)}", f"未知角色：{', '.join(unknown)}")
    if participant_repo.participant(uow.session, participant_id) is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    if participant_repo.user_id_of(uow.session, username) is not None:
        raise StateConflict(f"Username {username!r} is taken.", f"用户名 {username!r} 已被占用。")
    problems = duties.check_role_combination(set(roles) | organisation_roles(uow, participant_id))
    if problems:
        raise RuleViolation(problems)
    user = User(
        participant_id=participant_id,
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        active=True,
        created_at=uow.now(),
    )
    uow.session.add(user)
    uow.session.flush()
    uow.session.add_all(UserRole(user_id=user.id, role=r) for r in roles)
    uow.audit("user.created", "user", user.id,
              {"username": username, "participant_id": participant_id, "roles": roles})
    return user


def organisation_roles(uow: UnitOfWork, participant_id: int) -> set[str]:
    """Every role any user of the organisation holds."""
    return participant_repo.roles_of_organisation(uow.session, participant_id)


def _principal(uow: UnitOfWork, user: User) -> Principal:
    roles = frozenset(participant_repo.roles_of_user(uow.session, user.id))
    return Principal(user.id, user.participant_id, user.username, roles)


def authenticate(uow: UnitOfWork, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an active user, else None."""
    user = participant_repo.user_by_username(uow.session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    return _principal(uow, user)


def load_principal(uow: UnitOfWork, user_id: int) -> Principal | None:
    """The current roles of an active user, in one query (a token outlives role changes, so the API reads
    them again at least every few seconds: api.deps)."""
    rows = participant_repo.user_with_roles(uow.session, user_id)
    if not rows or not rows[0].active:
        return None
    return Principal(user_id, rows[0].participant_id, rows[0].username,
                     frozenset(row.role for row in rows if row.role is not None))


def get_participant(uow: UnitOfWork, participant_id: int) -> Participant:
    participant = participant_repo.participant(uow.session, participant_id)
    if participant is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    return participant


def masked_name(name: str) -> str:
    """An individual's name as others see it: the first character, then a star for each other one."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else name


def sees_full_name(viewer: Principal | None, participant: Participant) -> bool:
    """Whether `viewer` may read `participant`'s name in full. An individual's name is personal data (cf. the
    Quzhou regulation Art. 38–43): only the individual and the reviewers of its files (the certification
    center, the expert committee and the bureau) read it; the public and other traders see it masked. An
    organisation's name is public. (The admin's and the operations center's participant registers are the
    identity records themselves and list names as registered.)"""
    if participant.kind != "individual":
        return True
    return viewer is not None and (viewer.participant_id == participant.id or viewer.is_reviewer)


def name_for(viewer: Principal | None, participant: Participant) -> str:
    """A participant's name as `viewer` may see it (see sees_full_name): every answer that names a participant
    to someone else goes through here."""
    return participant.name if sees_full_name(viewer, participant) else masked_name(participant.name)


def counterparties(uow: UnitOfWork, viewer: Principal) -> list[tuple[int, str]]:
    """The other active, admitted traders (id and name as `viewer` may see it): whom a negotiated transfer
    or a restricted listing may name."""
    others = participant_repo.admitted_traders_except(uow.session, viewer.participant_id)
    return [(p.id, name_for(viewer, p)) for p in others]


def list_participants(uow: UnitOfWork, offset: int, limit: int) -> Page[Participant]:
    return participant_repo.participants_page(uow.session, offset, limit)


def verifier_organisations(uow: UnitOfWork) -> list[Participant]:
    """The active organisations with a verifier user: those an owner may commission (Art. 15)."""
    return participant_repo.verifier_organisations(uow.session)


def set_participant_status(uow: UnitOfWork, actor: Principal, participant_id: int, status: str,
                           reason: str) -> Participant:
    """Suspend, disqualify (Art. 26) or reinstate a participant; only the bureau imposes or lifts a
    disqualification."""
    participant = get_participant(uow, participant_id)
    if "disqualified" in (status, participant.status) and not actor.has("bureau"):
        raise Forbidden("Only the environment bureau imposes or lifts a disqualification (Art. 26).",
                        "取消资格及其恢复只能由市生态环境局决定（第二十六条）。")
    if participant.status == status:
        raise StateConflict(f"Participant is already {status}.", f"该主体状态已是 {status}。")
    previous = participant.status
    participant.status = status
    uow.audit("participant.status_changed", "participant", participant_id,
              {"from": previous, "to": status, "reason": reason})
    return participant


def find_user_by_username(uow: UnitOfWork, username: str) -> User | None:
    return participant_repo.user_by_username(uow.session, username)


def require_active(uow: UnitOfWork, participant_id: int, doing_en: str, doing_zh: str) -> Participant:
    """Refuse with JX-26 when the participant is suspended or disqualified (Art. 26)."""
    participant = participant_repo.participant(uow.session, participant_id)
    if participant is None or participant.status != "active":
        raise RuleViolation([Violation("JX-26", "Art. 26", None, f"主体已被暂停或取消资格，不得{doing_zh}。",
                                       f"The participant is suspended or disqualified and may not {doing_en}.")])
    return participant


def counterparty_violations(uow: UnitOfWork, participant_id: int, field: str | None) -> list[Violation]:
    """JX-26 when the other side of a transfer or trade is suspended or disqualified (Art. 26): such a
    participant may neither receive credits nor deal, so nobody may deal with it either."""
    participant = participant_repo.participant(uow.session, participant_id)
    if participant is None or participant.status == "active":
        return []
    return [Violation("JX-26", "Art. 26", field,
                      "对方主体已被暂停或取消参与碳普惠市场的资格，不得向其转让减排量或与其交易。",
                      "The other party is suspended or disqualified from the carbon-inclusive market: no credits "
                      "may go to it and nobody may deal with it.")]


# The use cases of the API: each commits once.

def admit_participant(uow: UnitOfWork, *, name: str, kind: str, credit_code: str | None) -> Participant:
    """Admit a participant (see create_participant); commits."""
    participant = create_participant(uow, name=name, kind=kind, credit_code=credit_code)
    uow.commit()
    return participant


def add_user(uow: UnitOfWork, *, participant_id: int, username: str, password: str, display_name: str,
             roles: Iterable[str]) -> User:
    """Create a login (see create_user); commits."""
    user = create_user(uow, participant_id=participant_id, username=username, password=password,
                       display_name=display_name, roles=roles)
    uow.commit()
    return user


def change_status(uow: UnitOfWork, actor: Principal, participant_id: int, status: str, reason: str) -> Participant:
    """Suspend, disqualify or reinstate a participant (see set_participant_status); commits."""
    participant = set_participant_status(uow, actor, participant_id, status, reason)
    uow.commit()
    return participant
