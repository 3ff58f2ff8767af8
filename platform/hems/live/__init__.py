"""Live devices: state reported by the devices themselves over MQTT, commands sent back.

- :mod:`hems.live.ingest`: ``apply_reports``, the one write path for reports (bulk).
- :mod:`hems.live.topics`: the versioned topic layout.
- :mod:`hems.live.credentials`: per-device broker logins (rotate, hash, look up).
- :mod:`hems.live.broker`: the broker's password and ACL files, kept in step.
- :mod:`hems.live.commands`: commands to a live device, pending until it reports them.

See docs/live-devices.md and DESIGN.md ("Live devices").
"""
