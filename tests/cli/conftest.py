"""Fixtures for the headless commands' tests (cli/): none beyond the shared ones yet."""

from __future__ import annotations
