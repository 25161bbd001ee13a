"""Calendars: the official PRC holiday calendar (official.py) and the days a firm's own calendar excludes (periods.py)."""
