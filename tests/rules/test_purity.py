"""rules/ and matching_engine/ stay pure: no database, web, cache, crypto-token or settings libraries, and
nothing of the registry or the API. Checked twice: statically over every import statement, and dynamically
by importing every module in a fresh interpreter and listing what got loaded. And the tools of bench/ measure
the service from outside: no package of the service imports them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("rules", "matching_engine")
FORBIDDEN = ("sqlalchemy", "fastapi", "redis", "psycopg", "jose", "pydantic", "registry", "api", "bench",
             "starlette", "alembic", "httpx", "uvicorn")
SERVICE_PACKAGES = ("rules", "matching_engine", "registry", "api", "migrations")


def pure_modules() -> list[str]:
    names = []
    for package in PURE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            roots.add("__import__")  # dynamic imports are not allowed in the pure packages either
    return roots


def test_there_are_modules_to_check() -> None:
    assert "rules.formula" in pure_modules()
    assert "matching_engine" in pure_modules()


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_static_imports_are_standard_library_or_own(package: str) -> None:
    allowed_third_party = {"sortedcontainers"} if package == "matching_engine" else set()
    stdlib = set(sys.stdlib_module_names)
    for path in sorted((ROOT / package).rglob("*.py")):
        for root in imported_roots(path):
            assert root not in FORBIDDEN, f"{path.relative_to(ROOT)} imports {root}"
            assert root in stdlib or root == package or root in allowed_third_party or root == "__future__", (
                f"{path.relative_to(ROOT)} imports {root}, which is neither standard library nor {package}"
            )


def test_importing_every_pure_module_loads_nothing_forbidden() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {pure_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_no_package_of_the_service_imports_bench() -> None:
    importers = [str(path.relative_to(ROOT)) for package in SERVICE_PACKAGES
                 for path in sorted((ROOT / package).rglob("*.py")) if "bench" in imported_roots(path)]
    assert importers == []
