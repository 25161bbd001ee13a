"""Use cases: open a unit of work, call pure code, commit."""
