"""Database access: engine, tables, repositories, migrations, and the two ways to run SQL.

Repositories (``accounts``, ``integrations``, ``call_history``, ``agent_choices``, …) are plain
synchronous functions of SQLAlchemy Core taking a :class:`~sqlalchemy.Connection` first and a
company id, which every statement puts in its WHERE clause. They run in one of two ways, each
with one purpose:

- **Units of work** (:mod:`callbridge.storage.units`: ``read``, ``write``, ``write_with_jobs``):
  the pipeline's hot path — ingest, fold, sync bookkeeping, the queues. A whole short
  transaction runs on a blocking connection (group-committed on SQLite, a unit thread on
  PostgreSQL), with the jobs it asks for committed in the same transaction.
- **Async sessions** (``runtime.sessions()`` to write, ``runtime.reads()`` to read; connectors get
  the same two as ``IntegrationContext.sessions`` and ``read_sessions``): the API's requests and a
  connector's own state. They call repositories with ``await sql.run(session, repo_fn, …)``
  (:func:`callbridge.storage.sql.run`), on the session's connection and in its transaction.

New code on the pipeline's path uses a unit; new code serving a request or a connector uses a
session and ``sql.run``. Neither opens connections by hand. Every repository is a synchronous
function taking a ``Connection`` first, whichever of the two runs it.
"""
