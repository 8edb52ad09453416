"""The terminal UI and command line. The only package that imports textual (and only for the dashboard)."""
