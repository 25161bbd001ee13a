"""Read models for the web console."""
