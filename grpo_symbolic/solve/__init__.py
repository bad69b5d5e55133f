"""The solver layer: stationary policies of a numeric Problem."""
