"""Fixtures for the core tests (``make_distribution`` lives in ``tests/conftest.py``)."""
