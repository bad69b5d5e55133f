"""The paper layer: printed forms, typed once, and the equation table."""
