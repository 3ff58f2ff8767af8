"""The simulation tick: every minute, every device, in shards of homes."""
