"""Post-loan warning rules: a pure engine (no SQL, no clock of its own), geofences and change detection."""
