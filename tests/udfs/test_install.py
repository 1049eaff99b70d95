"""The base install: what ``pip install xl-stp`` brings is what the functions need, every one of it
installable under Pyodide (xlwings Lite), and it computes every STP_* function on its own.

A wheel is built from this checkout, its required dependencies are read from its metadata, and a
fresh virtual environment with that wheel alone (no extras) runs the LLR worked examples of
``test_routes.py`` through ``lite/main.py`` — and has no batch engine: ``xl-stp regen`` there stops
with one line naming the extra to install. Needs the package index for numpy and xlwings; skipped
with the reason when it cannot be reached.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .test_routes import EXPECTED, IDS, PAYLOAD

ROOT = Path(__file__).resolve().parents[2]

#: Packages the base install may require, and why each installs under Pyodide (xlwings Lite).
PYODIDE_INSTALLABLE = {
    "numpy": "built by Pyodide itself, in its distribution",
    "xlwings": "preinstalled by xlwings Lite; a pure wheel and a pyemscripten wheel on the package index",
}
#: What the base install must not bring: the batch engine, the builder, the command line.
NOT_IN_BASE = ("distributed", "formulas", "defusedxml", "openpyxl", "pandas", "xlsxwriter", "typer", "rich", "uno")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                 str(ROOT)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return next(out.glob("xl_stp-*.whl"))


def requirements(wheel: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(base requirements, requirements by extra) from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    base, extras = set(), {}
    for line in meta.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        spec = line.split(":", 1)[1].strip()
        name = re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower().replace("_", "-")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", spec)
        (extras.setdefault(extra.group(1), set()) if extra else base).add(name)
    return base, extras


def test_the_base_install_requires_only_what_installs_under_pyodide(wheel):
    base, extras = requirements(wheel)
    assert base == set(PYODIDE_INSTALLABLE), base
    assert {"formulas", "distributed", "defusedxml", "openpyxl"} <= extras["regen"]
    assert {"pandas", "xlsxwriter"} <= extras["build"]
    assert {"typer", "rich"} <= extras["cli"]
    assert "xl-stp" in extras["regen"] and "xl-stp" in extras["build"]  # each brings the command line too


def test_the_wheel_is_pure_python_and_holds_the_lite_files_source(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")  # what micropip installs from a URL
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {"udfs/functions.py", "udfs/registry.py", "udfs/convert.py", "udfs/excel.py", "udfs/lite.py"} <= names
    assert "xl_stp/llr/data/llr_stp_2016.csv" in names


@pytest.fixture(scope="module")
def base_env(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel and nothing else (its dependencies from the index)."""
    venv = tmp_path_factory.mktemp("base-venv") / "venv"
    proc = _run([sys.executable, "-m", "venv", str(venv)])
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    proc = _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)])
    if proc.returncode != 0:
        if re.search(r"(?i)connection|network|resolve|temporary failure|No matching distribution", proc.stderr):
            pytest.skip(f"the package index cannot be reached for numpy and xlwings: {proc.stderr.strip().splitlines()[-1]}")
        raise AssertionError(proc.stderr[-3000:])
    return venv


def test_the_base_install_has_no_batch_engine_builder_or_command_line_packages(base_env):
    code = ("import importlib.util, json, sys; "
            f"print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {list(NOT_IN_BASE)!r}}}))")
    proc = _run([str(base_env / "bin" / "python"), "-c", code])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {m: False for m in NOT_IN_BASE}


def test_the_base_install_computes_every_function(base_env, tmp_path):
    """The LLR worked examples through lite/main.py (plain functions off the server), in the fresh
    environment, from the installed wheel rather than this checkout."""
    work = tmp_path / "route"
    (work / "tests" / "udfs").mkdir(parents=True)
    (work / "lite").mkdir()
    shutil.copy(ROOT / "tests" / "udfs" / "xlwings_routes.py", work / "tests" / "udfs")
    shutil.copy(ROOT / "lite" / "main.py", work / "lite")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLWINGS_", "PYTHON"))}
    proc = _run([str(base_env / "bin" / "python"), str(work / "tests" / "udfs" / "xlwings_routes.py"), "plain"],
                input=json.dumps(PAYLOAD), cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert "skip" not in out, out
    where = _run([str(base_env / "bin" / "python"), "-c", "import udfs; print(udfs.__file__)"], cwd=work, env=env)
    assert str(base_env) in where.stdout  # the installed package, not the checkout
    assert dict(zip(IDS, out["calls"])) == EXPECTED


@pytest.mark.parametrize("command, extra", [("regen", "regen"), ("build", "build"), ("functions", "cli")])
def test_a_command_without_its_extra_names_the_extra_in_one_line(base_env, tmp_path, command, extra):
    args = {"regen": ["regen", "plan.xlsx", "--out", str(tmp_path)], "build": ["build"], "functions": ["functions"]}[command]
    proc = _run([str(base_env / "bin" / "xl-stp"), *args], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"pip install 'xl-stp[{extra}]'" in lines[0] and "Traceback" not in proc.stderr
