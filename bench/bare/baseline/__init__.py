"""A bare Django project with one model and one view: the baseline of bench/webhook_bench.py."""
