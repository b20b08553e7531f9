"""Configuration from the environment (prefix CARBONX_); the defaults are the embedded first run."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service. Unset URLs mean the embedded default: SQLite file and in-process stand-ins."""

    model_config = SettingsConfigDict(env_prefix="CARBONX_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/carbonx.sqlite3"
    # PostgreSQL: the tables' owner, used only by `migrate`, which then grants the role of database_url what the
    # service needs (registry/database_roles.py). Unset: database_url migrates too (a single-role development
    # set-up, which the service then refuses to run on unless allow_privileged_database_role is set).
    migration_database_url: str | None = None
    # Run the service as a superuser or the tables' owner anyway (they can switch off the append-only triggers).
    allow_privileged_database_role: bool = False
    # Serve although PostgreSQL acknowledges commits before they are on disk (synchronous_commit or fsync off):
    # an acknowledged trade could then be lost in a crash. For throw-away benchmarks only.
    allow_asynchronous_commit: bool = False
    redis_url: str | None = None
    data_dir: Path = Path("var")

    jwt_algorithm: str = Field(default="HS256", pattern="^(HS256|RS256)$")
    # The HS256 key. Unset: the embedded first run (SQLite) makes a random one on first start and keeps it in
    # data_dir (api.tokens.with_signing_key); with PostgreSQL it must be set, the same for every process and host.
    jwt_secret: SecretStr | None = None
    jwt_private_key_pem: SecretStr | None = None
    jwt_public_key_pem: str | None = None
    jwt_issuer: str = "carbonx-jiaxing"
    jwt_audience: str = "carbonx-api"
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)

    rate_limit_per_minute: int = Field(default=600, ge=1)
    login_attempts_per_minute: int = Field(default=10, ge=1)
    # The reverse proxies whose X-Forwarded-For (and -Proto) are believed: IP addresses or networks, separated by
    # commas. None by default: a client's address is then the peer's, and no header can change which rate limit
    # counts it (uvicorn on its own would believe any request from 127.0.0.1).
    trusted_proxies: str = ""
    # Failed logins of one username before it is locked, the first lock, and the longest: each failure after
    # the lock doubles it, up to the longest. A success or an administrator's unlock clears the count, and
    # failures are forgotten after a day without one.
    login_lockout_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_seconds: int = Field(default=60, ge=1, le=24 * 3600)
    login_lockout_max_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)

    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    allow_clock_travel: bool = False
    # Art. 21: the operations center retires credits on the platform; True executes each request at once.
    auto_execute_retirements: bool = False
    # The buyer's exchange fee in basis points of the notional (10 = 0.1%), rounded down to the fen.
    exchange_fee_bp: int = Field(default=10, ge=0, le=1000)
    # As in the national carbon market: credits bought today can be sold from the next trading day.
    resale_lock: bool = True
    # How far ahead of now an expiry (a GTD order's, a listing's, a proposal's) or a one-sided auction's end may
    # lie, in days: a date beyond it is a typo (or a probe), refused with a 422 naming the field.
    max_horizon_days: int = Field(default=365, ge=1, le=3650)
    # Trading periods (交易时段) on working days, Asia/Shanghai; the demo (`make run`) keeps the market always open.
    market_hours: str = Field(default="09:30-11:30,13:00-15:00",
                              pattern=r"^\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)*$")
    market_always_open: bool = False
    # Whether this process may own order books (PostgreSQL + Redis only). False: it serves HTTP and routes every
    # book's commands to the processes that own them, e.g. to `python -m api books`, which owns books and
    # serves no HTTP, so the writers have a core of their own.
    owns_books: bool = True
    # The instrument codes whose books this process may own, comma-separated; empty for any. Several books
    # processes with different lists put busy instruments' writers in processes (and on cores) of their own.
    books: str = Field(default="", pattern=r"^([A-Z][A-Z0-9\-]{2,39}(,[A-Z][A-Z0-9\-]{2,39})*)?$")
    # The opening call auction (集合竞价) runs from this time until the first session; empty for none.
    market_opening_call: str = Field(default="09:15", pattern=r"^(\d\d:\d\d)?$")
    public_base_url: str = "http://127.0.0.1:8000"
    # A TrueType font (.ttf/.ttc) with Chinese glyphs, embedded as a subset in certificate PDFs; unset, the
    # first of api.certificates.KNOWN_FONTS that exists (Debian's fonts-wqy-zenhei), else a built-in CID font.
    certificate_font: Path | None = None
    # Request logs and every other log line: one JSON object per line, or plain text for a terminal.
    log_format: Literal["json", "plain"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A static bearer token a Prometheus scraper may send to GET /metrics (besides admin/operator logins).
    metrics_token: SecretStr | None = Field(default=None, min_length=32)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"CARBONX_TRUSTED_PROXIES takes IP addresses or networks, not {item!r}") from None
        return ",".join(items)

    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies' addresses and networks, as uvicorn's forwarded_allow_ips takes them."""
        return [item for item in self.trusted_proxies.split(",") if item]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
