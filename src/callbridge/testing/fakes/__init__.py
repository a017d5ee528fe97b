"""Faithful fakes of the CRMs' HTTP APIs: real servers on loopback, for tests and ``make run``."""
