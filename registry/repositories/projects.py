"""Projects' queries (Art. 12–13): projects, their assets and documents."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Project, ProjectAsset, ProjectDocument
from registry.pagination import Page, paginate


class LiveAssetRow(NamedTuple):
    """An asset a registered project holds live, with its crediting period."""

    project_id: int
    asset_identifier: str
    crediting_start: date
    crediting_end: date


def project(session: Session, project_id: int, *, for_update: bool = False) -> Project | None:
    """The project, or None; locked when the caller registers it."""
    return session.get(Project, project_id, with_for_update=for_update)


def project_by_code(session: Session, code: str) -> Project | None:
    """The project with that code, or None."""
    return session.scalar(select(Project).where(Project.code == code))


def project_assets(session: Session, project_id: int) -> list[ProjectAsset]:
    """A project's assets, as rows (to replace them or make them live)."""
    return list(session.scalars(select(ProjectAsset).where(ProjectAsset.project_id == project_id)))


def asset_identifiers(session: Session, project_id: int) -> list[str]:
    """A project's normalised asset identifiers, in the order they were given."""
    return list(session.scalars(select(ProjectAsset.asset_identifier).where(ProjectAsset.project_id == project_id)
                                .order_by(ProjectAsset.id)))


def documents_of(session: Session, project_id: int) -> list[ProjectDocument]:
    """A project's documents."""
    return list(session.scalars(select(ProjectDocument).where(ProjectDocument.project_id == project_id)))


def live_assets_elsewhere(session: Session, identifiers: list[str], project_id: int) -> list[LiveAssetRow]:
    """These assets where another project holds them live."""
    rows = session.execute(
        select(ProjectAsset.project_id, ProjectAsset.asset_identifier, ProjectAsset.crediting_start,
               ProjectAsset.crediting_end)
        .where(ProjectAsset.live.is_(True), ProjectAsset.asset_identifier.in_(identifiers),
               ProjectAsset.project_id != project_id)
    ).all()
    return [LiveAssetRow(*row) for row in rows]


def project_page(session: Session, *, owner_participant_id: int | None, county_code: str | None, status: str | None,
                 offset: int, limit: int) -> Page[Project]:
    """Projects, newest first: one owner's including drafts when given, else every project but drafts;
    of a county and a status when given."""
    query = select(Project)
    if owner_participant_id is not None:
        query = query.where(Project.owner_participant_id == owner_participant_id)
    else:
        query = query.where(Project.status != "draft")
    if county_code:
        query = query.where(Project.county_code == county_code)
    if status:
        query = query.where(Project.status == status)
    return paginate(session, query.order_by(Project.id.desc()), offset, limit)
