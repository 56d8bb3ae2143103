"""DocFlow gateway service."""
