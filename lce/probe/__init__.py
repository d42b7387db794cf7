"""Probe sets: Broden-format reading, writing and synthetic generation."""
