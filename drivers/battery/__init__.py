"""The battery driver: stationary home batteries."""
