"""Callbridge: puts every phone call on the right CRM record, exactly once."""

__version__ = "0.1.0"
