"""The numerics layer: precision, root finding and certified enclosures."""
