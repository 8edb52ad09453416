"""Flow analytics: polars, pure functions of stored rows and an as-of date. No httpx, no textual."""
