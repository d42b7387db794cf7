"""LCE analyses (DESIGN.md section 6): concept matrix, projection, categories, correlations."""
