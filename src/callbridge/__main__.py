"""Run the ``callbridge`` command with ``python -m callbridge``."""

from callbridge.cli import app

app()
