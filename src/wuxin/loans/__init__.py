"""Loans: the lifecycle state machine, the five-category risk class, pledge valuation and coverage; pure."""
