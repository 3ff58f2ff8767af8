"""The solar driver: photovoltaic panels (arrays) on the home."""
