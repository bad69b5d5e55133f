"""The preference layer: P_G(o|pi) as exact sums, moment tables and float tables."""
