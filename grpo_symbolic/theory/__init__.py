"""The theory layer: advantage rules, penalties, the objective and its stationarity."""
