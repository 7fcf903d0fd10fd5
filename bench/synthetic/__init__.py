"""Synthetic operations series with known ground truth."""
