"""What every layer shares: records and their bounds, the NYSE and FOMC calendars, configuration, sanitising, logging.

Stdlib and platformdirs only, so sources, store, analytics and tui can all stand on it."""
