"""Evaluation protocols, comparisons of models, and committed results with their provenance."""
