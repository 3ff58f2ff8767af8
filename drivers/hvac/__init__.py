"""The hvac driver: air conditioners and heaters, two kinds from one driver."""
