"""The export layer: LaTeX and figures."""
