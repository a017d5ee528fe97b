"""Run the ``callbridge`` command with ``python -m callbridge``."""

from callbridge.service.cli import app

app()
