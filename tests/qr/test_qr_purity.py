"""qr is the pure core: no web framework, database, forms or sibling packages; click only at the CLI edge."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import qr

PACKAGE = Path(qr.__file__).parent
FORBIDDEN = ("flask", "sqlmodel", "sqlalchemy", "wtforms", "merchants", "printouts")
MODULES = sorted(PACKAGE.glob("*.py"))


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_imports_no_framework_database_or_sibling_package(module: Path) -> None:
    assert not imported_roots(module) & set(FORBIDDEN)


@pytest.mark.parametrize("module", [m for m in MODULES if m.name != "cli.py"], ids=lambda p: p.name)
def test_only_the_cli_module_imports_click(module: Path) -> None:
    assert "click" not in imported_roots(module)


def test_importing_qr_and_its_cli_loads_none_of_the_forbidden_packages() -> None:
    code = (
        "import sys, qr, qr.cli; "
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_every_public_name_is_exported_from_the_package() -> None:
    for name in qr.__all__:
        assert getattr(qr, name) is not None
