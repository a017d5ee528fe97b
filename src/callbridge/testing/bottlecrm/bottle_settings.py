"""Settings of a BottleCRM test server: SQLite, no Redis, throttles off unless asked for.

This file runs inside BottleCRM's own virtual environment (Python 3.12, ``django-crm``), never in
Callbridge's: it is data for :mod:`callbridge.testing.bottlecrm_server`, not a module of ours.
Environment: ``BOTTLE_SQLITE`` (database file), ``BOTTLE_SYNCDB=1`` (build tables from the models),
``BOTTLE_THROTTLE=1`` (keep DRF throttles, e.g. 120/min on the duplicates lookup).
"""

from __future__ import annotations

import os

from crm.settings import *  # type: ignore[import-not-found]  # noqa: F403
from crm.settings import INSTALLED_APPS

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BOTTLE_SQLITE"],
        "OPTIONS": {"timeout": 30},
    }
}
if os.environ.get("BOTTLE_SYNCDB") == "1":
    # 253 migrations take two minutes on SQLite; their RunPython steps are no-ops on an empty DB.
    MIGRATION_MODULES = {app.rsplit(".", 1)[-1]: None for app in INSTALLED_APPS}

CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True

if os.environ.get("BOTTLE_THROTTLE") == "1":
    # One process-local cache: run this server with one worker so the counters are exact.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # DRF throttles keep their counters in the cache: the dummy cache never counts.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
