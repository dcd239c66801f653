"""A bare Django project: the baselines of bench/webhook_bench.py (one insert) and bench/console_bench.py (50 rows)."""
