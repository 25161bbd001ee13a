"""MQTT ingestion: topics and dialects (pure), the broker (Mosquitto + dynamic security), workers, bench."""
