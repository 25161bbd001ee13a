"""Benchmark drivers: each prints its figures and a last line of ratios."""
