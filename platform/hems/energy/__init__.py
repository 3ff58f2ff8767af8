"""Energy accounting: the stats formulas of the energy rules, for one home or many."""
