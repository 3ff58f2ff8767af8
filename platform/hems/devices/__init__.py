"""Devices: the Device base, the live state table, homes and the kind catalogue."""
