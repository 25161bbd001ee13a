"""HTTP API: routers call services, never the database."""
