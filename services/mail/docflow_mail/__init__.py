"""DocFlow mail service."""
