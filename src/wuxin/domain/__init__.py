"""Pure domain types: no database, no I/O."""
