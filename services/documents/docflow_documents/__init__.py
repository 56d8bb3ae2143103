"""DocFlow documents service."""
