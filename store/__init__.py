"""The store: the hinge between collecting (sources write) and viewing (analytics and the tui read).

One interface, `Store`, with SQLite behind it (store/sqlite.py); a second backend goes beside it and is
chosen in `Store.open`. No httpx, no polars, no textual. The SQLite module's public names (retention,
caps, schema version) are the store's own settings and are re-exported here."""

from .sqlite import *  # noqa: F403 - the backend's public names are the store's
from .sqlite import HELD, SCHEMA_VERSION, Store, StoreError, WriteResult

__all__ = ["HELD", "SCHEMA_VERSION", "Store", "StoreError", "WriteResult"]
