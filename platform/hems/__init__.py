"""hems: an open, plugin-based home energy management backend."""

__version__ = "0.1.0"
