"""The architecture is the tree: each layer of kamsurvey imports only from the layers below it.

data -> analysis -> report (words and figures) -> site -> build, with `kam` (kamsurvey/cli.py) on top.
Read from the source (every `import` and `from ... import`, at any depth, including those inside
functions), so an upward import cannot hide in a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kamsurvey"
LAYERS = ["data", "analysis", "report", "site", "build"]
TOP = {"cli": len(LAYERS), "__main__": len(LAYERS)}  # the command line sits on every layer


def layer_of(module: str) -> int | None:
    """The layer of a `kamsurvey...` module name (None: not one of ours, or the package's own façade)."""
    parts = module.split(".")
    if parts[0] != "kamsurvey" or len(parts) < 2:
        return None
    if parts[1] in TOP:
        return TOP[parts[1]]
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, text: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a kamsurvey module in the file, relative imports resolved."""
    tree = ast.parse(text)
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("kamsurvey.")]


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def upward_imports(path: Path, text: str) -> list[str]:
    here = layer_of(module_name(path))
    assert here is not None, f"{path} is in no layer: put it in one of {LAYERS}"
    return [f"line {line}: {name}" for line, name in imports(path, text)
            if layer_of(name) is not None and layer_of(name) > here]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_downward_only(path):
    upward = upward_imports(path, path.read_text(encoding="utf-8"))
    assert not upward, f"{module_name(path)} imports from a layer above it: {upward}"


def test_the_package_facade_imports_nothing_eagerly():
    """`from kamsurvey import Chapter` loads the report layer only when asked: importing kamsurvey costs nothing."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    eager = [node.lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
             and any(alias.name.startswith("kamsurvey") for alias in node.names)
             or isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kamsurvey")]
    assert eager == []


def test_a_layer_violation_is_caught():
    """The check itself can fail: upward imports, plain, relative or inside a function, are all reported."""
    probe = PACKAGE / "data" / "probe.py"
    text = "import kamsurvey.site.render\nfrom ..analysis import stats\ndef f():\n    from kamsurvey.report import phrasing\n"
    assert upward_imports(probe, text) == ["line 1: kamsurvey.site.render", "line 2: kamsurvey.analysis",
                                           "line 2: kamsurvey.analysis.stats", "line 4: kamsurvey.report",
                                           "line 4: kamsurvey.report.phrasing"]
    assert upward_imports(PACKAGE / "build" / "probe.py", text) == []
