"""The test suite's own rules: skip-or-fail for missing services, and how tests share code."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.support import require_module

TESTS = Path(__file__).resolve().parent
MISSING = "polling_test_no_such_module"


def test_a_missing_module_skips_on_a_laptop(monkeypatch):
    monkeypatch.delenv("POLLING_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        require_module(MISSING)


def test_a_missing_module_fails_where_services_are_required(monkeypatch):
    monkeypatch.setenv("POLLING_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="POLLING_REQUIRE_SERVICES=1") as failed:
        require_module(MISSING, reason="the scale-out test needs it")
    assert "the scale-out test needs it" in str(failed.value)


def test_a_present_module_is_returned(monkeypatch):
    monkeypatch.setenv("POLLING_REQUIRE_SERVICES", "1")
    assert require_module("json") is json


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file that runs (not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest():
    """Shared helpers go to tests/support.py (or tests/browser/helpers.py), fixtures to
    conftest.py: a test imported by another would also run its tests twice, and a conftest
    imported as a module can exist twice, with two copies of its state."""
    offending = [
        f"{path.relative_to(TESTS.parent)}:{line}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in imports(path)
        if module.startswith("tests.")
        and module.rsplit(".", 1)[-1].startswith(("test_", "conftest"))
    ]
    assert offending == []


def test_importorskip_goes_through_require_module():
    """pytest.importorskip would skip in CI too; require_module fails there."""
    direct = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("*.py"))
        if path.name not in ("support.py", Path(__file__).name)
        and "importorskip(" in path.read_text()
    ]
    assert direct == []
