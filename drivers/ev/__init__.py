"""The electric vehicle driver: a car battery that is storage at home and away
on its schedule (see the EV's two roles in the energy rules)."""
