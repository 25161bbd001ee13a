"""Adapters from bytes to readings; they never touch the database."""
