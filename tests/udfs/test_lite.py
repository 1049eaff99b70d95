"""The xlwings Lite files (``lite/main.py``, ``lite/requirements.txt``) are what the registry
generates (``python -m udfs.lite``), and say what Lite needs: each function under its own name,
with the registry's help text and conversion options, calling the registry's function; the
package at its version, base install only. What they do inside xlwings' Office.js code is in
``test_routes.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import udfs.functions
from udfs import discover
from udfs.lite import files, main_py, requirements_txt
from xl_stp import __version__

R = discover()
ROOT = Path(__file__).resolve().parents[2]


def test_lite_files_match_the_registry():
    for name, text in files().items():
        path = ROOT / "lite" / name
        assert path.is_file(), f"{path} is missing: run python -m udfs.lite"
        assert path.read_text(encoding="utf-8") == text, "run: python -m udfs.lite"


def test_generated_files_say_so():
    for text in files().values():
        assert text.startswith("# xl-stp for xlwings Lite. Generated from xl-stp's function registry by `python -m udfs.lite`")


def _decorator(node: ast.expr) -> tuple[str, list, dict]:
    if isinstance(node, ast.Name):
        return node.id, [], {}
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return node.func.id, [ast.literal_eval(a) for a in node.args], {k.arg: ast.literal_eval(k.value) for k in node.keywords}


def test_main_py_declares_each_function_for_lite():
    tree = ast.parse(main_py())
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports == ["from xlwings import func, arg", "import udfs.functions as stp"]  # as Lite's docs write it
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert list(functions) == list(R)
    for name, fn in R.items():
        node = functions[name]
        decorators = [_decorator(d) for d in node.decorator_list]
        assert decorators[0] == ("func", [], {})  # no namespace, no name= alias: =STP_CAPITAL_NET(...)
        assert decorators[1:] == [("arg", [a.name], {**a.xlwings_options, "doc": a.doc}) for a in fn.args]
        assert all(a.xlwings_options["err_to_str"] is True for a in fn.args)  # error cells as text, never as blanks
        assert [a.xlwings_options.get("ndim") for a in fn.args] == [2 if a.range else None for a in fn.args]
        assert ast.get_docstring(node, clean=False) == fn.doc
        params = [p.arg for p in node.args.args]
        assert params == [a.name for a in fn.args]
        defaults = [ast.literal_eval(d) for d in node.args.defaults]
        assert len(defaults) == sum(a.optional for a in fn.args) and set(defaults) <= {None}
        assert [a.optional for a in fn.args] == sorted(a.optional for a in fn.args)  # optional ones last
        body = node.body[-1]
        assert ast.unparse(body) == f"return stp.{name}({', '.join(params)})"
        assert getattr(udfs.functions, name) is fn.func  # stp.<name> is the registry's function


def test_requirements_are_the_package_alone_at_this_version():
    lines = [line for line in requirements_txt().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines == [f"xl-stp=={__version__}"]  # base install: no [extras]
