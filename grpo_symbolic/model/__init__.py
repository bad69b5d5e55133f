"""The model layer: Problem, settings, exact numbers, errors and the canonical symbols."""
