"""The generator driver: fuel or gas generators with a steady rated output."""
