"""Database access: engine, tables, repositories and migrations."""
