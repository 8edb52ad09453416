"""The `flowtape` command line: argument parsing, the headless commands (`snapshot`, `scenarios`, `coinshares`)
and the launch of the dashboard. Headless commands never import textual; the dashboard loads it when it starts."""
