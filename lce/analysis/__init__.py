"""LCE analyses (docs/DESIGN.md §6): concept matrix, projection, categories, correlations."""
