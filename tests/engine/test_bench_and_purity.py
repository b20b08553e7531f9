"""The benchmark command runs (figures are printed, never asserted), and the engine stays pure: no clock, no
randomness, no I/O outside the benchmark module."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matching_engine import bench

ENGINE_DIR = Path(bench.__file__).resolve().parent
# Modules an engine module may not import: clocks, randomness, files, processes, network, logging.
IMPURE = {
    "time",
    "datetime",
    "random",
    "secrets",
    "os",
    "io",
    "pathlib",
    "socket",
    "subprocess",
    "logging",
    "threading",
    "asyncio",
    "uuid",
    "shutil",
    "tempfile",
    "sys_clock",
}


def test_bench_runs_a_small_flow_and_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--commands", "3000", "--listings", "500", "--bids", "500"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "commands/s",
        "p50",
        "p99 ",
        "p99.9",
        "live listings",
        "browse best 20",
        "one-sided auction",
    ):
        assert needle in out


def test_bench_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--commands", "2000", "--listings", "200", "--bids", "200", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["book"]["commands"] == 2001
    assert set(figures["book"]["latency_ns"]) >= {"p50", "p99", "p99.9"}
    assert figures["book"]["mix"]["cancel"] > 0 and figures["book"]["mix"]["marketable"] > 0
    assert figures["auction"]["bids"] == 200 and figures["listings"]["listings"] == 200


def test_the_generated_flow_is_seeded() -> None:
    first, _ = bench.generate_flow(500, seed=7)
    second, _ = bench.generate_flow(500, seed=7)
    assert first == second
    assert bench.generate_flow(500, seed=8)[0] != first


@pytest.mark.parametrize(
    "path", sorted(p for p in ENGINE_DIR.glob("*.py") if p.name != "bench.py"), ids=lambda p: p.name
)
def test_engine_modules_read_no_clock_and_do_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        assert not IMPURE & set(names), f"{path.name} imports {IMPURE & set(names)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"open", "print", "input", "eval", "__import__"}, (
                f"{path.name}: {node.func.id}"
            )


def test_events_do_not_depend_on_the_string_hash_seed() -> None:
    """Sets and dicts of strings iterate in a per-process order; the engine must never let that show."""
    script = (
        "import json, random\n"
        "from tests.engine.test_properties import CONFIG, rich_flow\n"
        "from matching_engine import Engine, event_to_dict\n"
        "engine = Engine(CONFIG)\n"
        "events = engine.submit_all(rich_flow(random.Random(5), 300))\n"
        "print(json.dumps([event_to_dict(e) for e in events]))\n"
    )
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", script], cwd=ENGINE_DIR.parent, env=env,
                                capture_output=True, text=True, timeout=120, check=True)
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and len(json.loads(outputs[0])) > 300
