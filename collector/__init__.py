"""The store's single writer without a screen (`flowtape collect`), and what the dashboard shares with it when it is
the writer: the source loops, the recompute after writes, the alert decision and the alert command.

Imports common, sources, store and analytics, never tui or textual (pyproject's import-linter contracts)."""
