"""Benchmark drivers: each prints its figures and a last line of ratios."""

DEFAULT_BENCH_PG = "postgresql://127.0.0.1:5432/wuxin_bench"  # WUXIN_BENCH_PG_URL overrides it
