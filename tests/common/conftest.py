"""Fixtures for the shared package's tests (common/: bounds, calendar, config, sanitize, logs)."""

from __future__ import annotations
