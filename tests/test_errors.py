"""The exception tree drawn in ``errors.py`` is the tree the code has: every class, every parent."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import callbridge
from callbridge import errors

SRC = Path(callbridge.__file__).parent
# A drawn line: the tree's branch characters, then the class name, then its explanation.
DRAWN = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(\s{2,}|$)")
OUTSIDE = re.compile(r"^- ``(?P<path>[\w/.]+): (?P<name>_?\w+)\((?P<base>\w+)\)``")


def _drawn_tree() -> dict[str, str | None]:
    """Return each class drawn in the tree with the parent it is drawn under."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (
        (errors.__doc__ or "").split("The tree::")[1].split("Outside the tree")[0].splitlines()
    ):
        found = DRAWN.match(line.strip("\n")[4:])
        if not found:
            continue
        depth = len(found["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found["name"]] = stack[-1][1] if stack else None
        stack.append((depth, found["name"]))
    return parents


def _exception_classes() -> dict[str, tuple[str, list[str]]]:
    """Return every class in src deriving (by name) from an exception, with its file and bases."""
    classes: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b).split(".")[-1] for b in node.bases]
                classes[node.name] = (str(path.relative_to(SRC)), bases)
    known = {"Exception", "BaseException", "ValueError", "RuntimeError", "LookupError"}
    found: dict[str, tuple[str, list[str]]] = {}
    changed = True
    while changed:  # close over subclasses of subclasses, whatever order the files come in
        changed = False
        for name, (where, bases) in classes.items():
            if name not in found and any(b in known or b in found for b in bases):
                found[name] = (where, bases)
                changed = True
    return found


def test_every_exception_class_is_drawn_under_its_real_parent() -> None:
    drawn = _drawn_tree()
    outside = {
        m["name"]: (m["path"], m["base"])
        for line in (errors.__doc__ or "").splitlines()
        if (m := OUTSIDE.match(line))
    }
    classes = _exception_classes()
    assert set(classes) == set(drawn) | set(outside)
    for name, (where, bases) in classes.items():
        if name in outside:
            assert outside[name] == (where, bases[0]), name
            continue
        assert bases == [drawn[name] or "Exception"], name
        if where != "errors.py":  # a class living elsewhere says where, on its own line
            line = next(x for x in (errors.__doc__ or "").splitlines() if f" {name}  " in x)
            assert f"{where}:" in line, name


def test_errors_imports_nothing() -> None:
    tree = ast.parse((SRC / "errors.py").read_text())
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(n) for n in imports] == ["from __future__ import annotations"]
