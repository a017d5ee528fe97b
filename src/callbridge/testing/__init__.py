"""Test support shipped with Callbridge: signed webhook builders, the connector contract suite."""
