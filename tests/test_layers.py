"""The layout's rule: one layer a folder, imports only downward, no import cycles.

Every module of the project is parsed (not imported) and each of its imports — at the top or
inside a function — is checked against the table of allowed directions below.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("xl_stp", "udfs")

#: Layer of each module, by the longest matching prefix.
LAYERS = {
    "xl_stp.core": "core",
    "udfs": "functions",
    "udfs.excel": "excel",
    "xl_stp.batch": "batch",
    "xl_stp.llr": "llr",
    "xl_stp.builder": "builder",
    "xl_stp.scenarios": "scenarios",
    "xl_stp.cli": "cli",
    "xl_stp.__main__": "cli",
    "xl_stp": "facade",  # xl_stp/__init__.py: re-exports the core's names
}

#: What each layer may import from the project (itself always). Downward only:
#: cli -> batch -> functions -> core; builder -> llr -> core; excel (udfs.excel) is the bottom of the
#: Excel side and imports nothing of ours. The batch engine may read Excel's conventions
#: (udfs.excel) but never the registry or the functions: it is given the registry.
ALLOWED = {
    "core": set(),
    "facade": {"core"},
    "excel": set(),
    "functions": {"core", "excel", "facade"},
    "batch": {"excel"},
    "llr": {"core"},
    "builder": {"llr", "functions", "excel", "core", "facade"},
    "scenarios": {"batch", "excel"},
    "cli": {"batch", "scenarios", "builder", "functions", "excel", "llr", "core", "facade"},
}

#: Third-party imports each layer may make (the standard library is always allowed), and the
#: install that brings them: the base install holds only what the core and the functions import,
#: so that it installs under Pyodide (xlwings Lite).
THIRD_PARTY = {
    "core": {"numpy"},
    "facade": set(),
    "excel": set(),
    "functions": {"numpy", "xlwings"},
    "batch": {"numpy", "openpyxl", "formulas", "schedula", "defusedxml", "distributed", "uno", "com"},
    "llr": {"numpy", "pandas"},
    "builder": {"xlsxwriter", "rich"},
    "scenarios": {"xlsxwriter"},
    "cli": {"typer", "rich"},
}
#: The extra of pyproject.toml that installs each layer's packages (None: the base install).
EXTRA = {"core": None, "facade": None, "excel": None, "functions": None, "batch": "regen", "llr": "build",
         "builder": "build", "scenarios": "scenarios", "cli": "cli"}
#: Imported, but installed by something else: formulas' own dependency, LibreOffice's UNO bridge
#: (Debian's python3-uno, used by the LibreOffice worker under the system Python).
NOT_FROM_PYPROJECT = {"schedula", "uno", "com"}


def layer(module: str) -> str:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module, relative ones resolved."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # "from package import module" imports the module too
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return found


def project_target(target: str, known: dict[str, Path]) -> str | None:
    """The project module an import refers to (the longest known prefix), or None."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in known:
            return candidate
    return None


MODULES = modules()


def test_the_table_covers_every_module():
    assert len(MODULES) > 30
    assert {layer(m) for m in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_only_down(name):
    mine = layer(name)
    wrong = []
    for line, target in imports(name, MODULES[name]):
        top = target.split(".")[0]
        if top in PACKAGES:
            dep = project_target(target, MODULES)
            if dep is None:
                continue  # a name imported from a module, already checked as the module
            theirs = layer(dep)
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"line {line}: {name} ({mine}) imports {dep} ({theirs})")
        elif top not in sys.stdlib_module_names and top != "__future__" and top not in THIRD_PARTY[mine]:
            wrong.append(f"line {line}: {name} ({mine}) imports {top}, not among its packages")
    assert not wrong, "\n".join(dict.fromkeys(wrong))


def test_each_layers_packages_come_with_its_install():
    """The base install brings the core's and the functions' packages; each extra (xl-stp[regen],
    [build], [cli]) brings its layer's (and, through the extras it names, the command line's)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(specs):
        return {re.match(r"[A-Za-z0-9_.-]+", s).group(0).lower() for s in specs}

    base = names(meta["dependencies"])
    extras = {k: names(v) for k, v in meta["optional-dependencies"].items()}
    for extra, specs in meta["optional-dependencies"].items():  # xl-stp[cli] inside [regen]
        for s in specs:
            m = re.match(r"xl-stp\[([^\]]+)\]", s)
            if m:
                extras[extra] |= set().union(*(extras[e] for e in m.group(1).split(",")))
    for lay, packages in THIRD_PARTY.items():
        have = base | (extras[EXTRA[lay]] if EXTRA[lay] else set())
        assert packages - NOT_FROM_PYPROJECT <= have, (lay, packages - NOT_FROM_PYPROJECT - have)
    assert base == THIRD_PARTY["core"] | THIRD_PARTY["functions"]


def test_no_import_cycles_between_modules():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _line, target in imports(name, path):
            dep = project_target(target, MODULES) if target.split(".")[0] in PACKAGES else None
            if dep and dep != name and not name.startswith(dep + "."):  # a module's own package is its parent
                graph[name].add(dep)
    # Tarjan's strongly connected components: any component of more than one module is a cycle.
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_checker_sees_an_upward_import(tmp_path):
    """The checks above can fail: a core module importing the batch engine is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..batch import scan\nimport pandas\n")
    found = imports("xl_stp.core.bad", bad)
    assert ("xl_stp.batch") in [t for _l, t in found]
    assert layer(project_target("xl_stp.batch.scan", MODULES)) not in ALLOWED["core"]
