"""Upstream sources: fetch with httpx, parse into plain records, write to the store.

No textual and no polars here: this layer must stay importable by headless tools.
"""
