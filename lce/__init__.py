"""LCE: compare vision models by the concepts their units learned (Learned Concepts Embedding)."""

__version__ = "0.1.0"
