"""Benchmarks of Callbridge; ``python -m bench`` runs them all and records the results."""
