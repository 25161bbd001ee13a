"""Enterprises, sites and devices: the registry, provisioning, connectivity, calendars, commands to devices."""
