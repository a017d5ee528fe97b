"""Make the shared queue contract importable as ``queue_contract``.

``tests/`` holds no packages, so a plain ``import contract`` would depend on pytest's import mode
and could collide with another folder's ``contract.py``; a unique module name avoids both.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load_contract() -> None:
    spec = importlib.util.spec_from_file_location(
        "queue_contract", Path(__file__).with_name("contract.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["queue_contract"] = module
    spec.loader.exec_module(module)


if "queue_contract" not in sys.modules:
    _load_contract()
