"""The demo: a bank, simulated borrowers with history, their loans and alarms, and live devices."""
