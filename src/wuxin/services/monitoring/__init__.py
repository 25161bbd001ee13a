"""Post-loan monitoring: rules over readings, alarms and their lifecycle, the officer's desk, notifications."""
