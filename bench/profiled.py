"""Run ``callbridge ARGS`` under cProfile counting this thread's CPU time, not the wall clock.

``python -m bench.profiled OUT ARGS...``: on a busy machine a wall-clock profile charges a
function for the time the process waited for a CPU; ``time.thread_time`` charges only the
CPU the event loop's thread used. The statistics are written to OUT when the command exits
(SIGINT stops ``callbridge serve`` cleanly).
"""

from __future__ import annotations

import cProfile
import sys
import time


def main(out: str, args: list[str]) -> None:
    """Run the command with ``args`` under the profiler and write its statistics to ``out``."""
    from callbridge.service.cli import app

    profile = cProfile.Profile(time.thread_time)
    sys.argv = ["callbridge", *args]
    try:
        profile.runcall(app)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
