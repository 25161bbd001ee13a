"""Seeded simulated fleets built from each scenario pack's sim.py."""
