"""flowtape benchmark: `python -m bench` (full) or `python -m bench --short` (CI). Prints a table."""
