"""Authentication secrets and access policy: pure functions, no SQL."""
