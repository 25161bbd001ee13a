"""Readings in: HTTP lines, bulk files, MQTT, JT/T 808, vendor SDKs and platforms; quarantine and retention."""
