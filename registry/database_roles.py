"""The PostgreSQL roles the registry runs under: an owner that migrates, a service role that only reads and writes.

The append-only promises (postings, journal entries, trades, the audit chain) are kept by triggers. A role that
owns the tables, or a superuser, can switch those triggers off (`ALTER TABLE … DISABLE TRIGGER`, or
`session_replication_role = replica`) and truncate the tables, so the service must never run as one. The owner
runs the migrations and then grants the service role exactly what the service needs: rows in, rows read,
rows changed where the model changes them, and on the append-only tables nothing but INSERT and SELECT.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

# Tables whose rows are never updated or deleted (triggers refuse it too; the privileges are the first wall).
APPEND_ONLY_TABLES = ("audit_entries", "journal_entries", "postings", "trades",
                      # event neutrality (issue 17): factor versions, inventories and offsets
                      "emission_factors", "event_inventories", "event_offsets",
                      # residents' points (issue 18): records as judged, operators' record ids, device sightings,
                      # the points ledger's entries and postings, redemptions
                      "behaviour_records", "behaviour_record_refs", "device_sightings", "points_entries",
                      "points_postings", "redemptions")
# Serial blocks are ended (updated once) but never deleted.
NEVER_DELETED_TABLES = ("serial_blocks",)
# Alembic's own bookkeeping: the service reads it (to know the schema is current) and never writes it.
READ_ONLY_TABLES = ("alembic_version",)

class UnsafeDatabase(RuntimeError):
    """The service was asked to run on a database set-up that would break a promise it makes."""


class PrivilegedDatabaseRole(UnsafeDatabase):
    """The service was asked to run as a role that could switch off the ledger's append-only guards."""


_ROLE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _quoted_role(role: str) -> str:
    # Role names come from configuration, never from a request; still, only plain lower-case names are accepted
    # so that the name can be spliced into GRANT statements (which take no bind parameters).
    if not role or len(role) > 63 or not set(role) <= _ROLE_NAME_CHARS or role[0].isdigit():
        raise ValueError(f"service role name must be lower-case letters, digits and _: {role!r}")
    return f'"{role}"'


def grant_service_role(owner: Connection, role: str) -> None:
    """Create `role` if missing (LOGIN, no password: set one as the DBA) and grant it the service's privileges on
    every table and sequence of the schema, as they are now. Idempotent; run after every migration."""
    quoted = _quoted_role(role)
    exists = owner.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        owner.execute(text(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"))
    database = owner.execute(text("SELECT current_database()")).scalar_one()
    owner.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}'))
    owner.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    owner.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}"))
    owner.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
    owner.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    present = set(owner.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    for table in APPEND_ONLY_TABLES + READ_ONLY_TABLES:
        if table in present:
            owner.execute(text(f'REVOKE INSERT, UPDATE, DELETE ON "{table}" FROM {quoted}'))
            if table in APPEND_ONLY_TABLES:
                owner.execute(text(f'GRANT INSERT ON "{table}" TO {quoted}'))
    for table in NEVER_DELETED_TABLES:
        if table in present:
            owner.execute(text(f'REVOKE DELETE ON "{table}" FROM {quoted}'))


def privilege_problems(engine: Engine) -> list[str]:
    """Why the role `engine` connects as is too powerful to run the service (empty when it is not)."""
    if engine.dialect.name != "postgresql":
        return []
    problems: list[str] = []
    with engine.connect() as conn:
        user, is_super, bypass_rls = conn.execute(text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        if is_super:
            problems.append(f"{user} is a superuser")
        if bypass_rls:
            problems.append(f"{user} bypasses row-level security")
        owned = conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")).scalar_one()
        if owned:
            problems.append(f"{user} owns {owned} of the tables (and could disable their triggers)")
        truncatable = conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND has_table_privilege(current_user, format('%I.%I', schemaname, tablename), 'TRUNCATE')")).scalar_one()
        if truncatable and not owned and not is_super:
            problems.append(f"{user} may TRUNCATE {truncatable} tables")
    return problems


def refuse_privileged_role(engine: Engine) -> None:
    """Raise PrivilegedDatabaseRole, naming why, when `engine` connects as a role too powerful for the service."""
    problems = privilege_problems(engine)
    if problems:
        raise PrivilegedDatabaseRole(
            "The service refuses to run as a privileged PostgreSQL role (" + "; ".join(problems) + "). Run "
            "`migrate` with CARBONX_MIGRATION_DATABASE_URL as the tables' owner and CARBONX_DATABASE_URL as the "
            "service role it grants (README, Security), or set CARBONX_ALLOW_PRIVILEGED_DATABASE_ROLE=true.")
