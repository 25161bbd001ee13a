"""Drivers that run the vendors' SDKs, unchanged, in their own virtualenvs (see run.py)."""
