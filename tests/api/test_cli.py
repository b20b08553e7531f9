"""The administrator's commands, against a fresh SQLite file: migrate, demo data, checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import cli
from api.settings import get_settings


def test_migrate_demo_and_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CARBONX_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("CARBONX_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        assert cli.main(["demo-data"]) == 0
        assert ("demo data loaded: 9 participants, 2 methodologies, 3 projects, 525 t issued, instrument JXCI-2025 "
                "open") in capsys.readouterr().out
        assert cli.main(["demo-data"]) == 0
        assert "already loaded" in capsys.readouterr().out
        assert cli.main(["verify-audit"]) == 0
        assert '"ok": true' in capsys.readouterr().out
        assert cli.main(["check-ledger"]) == 0
        csv_file = tmp_path / "ccer.csv"
        csv_file.write_text("mechanism,external_id,asset_identifier,credit_code,project_name\n"
                            "CCER,C-1,METER-1,,某项目\n", encoding="utf-8")
        assert cli.main(["import-registrations", str(csv_file)]) == 0
        assert "inserted 1" in capsys.readouterr().out
        assert cli.main(["create-admin", "root2", "--password", "a-long-password"]) == 0
        capsys.readouterr()
        exported = tmp_path / "issuances.csv"
        assert cli.main(["export", "issuances", "--output", str(exported)]) == 0
        content = exported.read_bytes()
        assert content.startswith(b"\xef\xbb\xbfbatch_code,vintage,quantity_t,")
        assert ",525," in content.decode("utf-8") and "分布式光伏" in content.decode("utf-8")
        assert cli.main(["export", "market-summary", "--day", "2025-01-06"]) == 0
        assert "JXCI-2025" in capsys.readouterr().out
        assert cli.main(["export", "trades"]) == 2
        assert cli.main(["export", "trades", "--instrument", "NOSUCH"]) == 1
        assert "not found" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
