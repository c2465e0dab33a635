"""The language layer."""
