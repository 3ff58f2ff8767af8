"""The drivers hems ships with. Each registers through the ``hems.drivers`` entry
point group, exactly as a third-party driver package would."""
