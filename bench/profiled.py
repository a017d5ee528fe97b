"""Run ``callbridge ARGS`` under cProfile counting this thread's CPU time, not the wall clock.

``python -m bench.profiled OUT ARGS...``: on a busy machine a wall-clock profile charges a
function for the time the process waited for a CPU; ``time.thread_time`` charges only the
CPU the event loop's thread used. The statistics are written to OUT when the command exits
(SIGINT stops ``callbridge serve`` cleanly). With ``BENCH_COUNT_SQL=1`` it also counts every SQL
statement the process ran, by its first words, into ``OUT.sql.txt``: SQLAlchemy's cost is per
statement, so their count is the lever.
"""

from __future__ import annotations

import collections
import cProfile
import sys
import time
from pathlib import Path
from typing import Any

_STATEMENTS: collections.Counter[str] = collections.Counter()


def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    """Count a statement by its kind and table (the first words up to the column list)."""
    words = statement.split()
    _STATEMENTS[" ".join(words[:4]).split("(")[0]] += 1


def _count_sql() -> None:
    """Listen to every statement of every engine, the savepoints of the group commit included."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _count)


def _write_counts(out: str) -> None:
    total = sum(_STATEMENTS.values())
    lines = [f"{total} statements"] + [f"{n:8d}  {kind}" for kind, n in _STATEMENTS.most_common()]
    Path(out + ".sql.txt").write_text("\n".join(lines) + "\n")


def main(out: str, args: list[str], count_sql: bool = False) -> None:
    """Run the command with ``args`` under the profiler and write its statistics to ``out``."""
    from callbridge.service.cli import app

    if count_sql:
        _count_sql()
    profile = cProfile.Profile(time.thread_time)
    sys.argv = ["callbridge", *args]
    try:
        profile.runcall(app)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(out)
        if count_sql:
            _write_counts(out)


if __name__ == "__main__":
    import os

    main(sys.argv[1], sys.argv[2:], count_sql=os.environ.get("BENCH_COUNT_SQL") == "1")
