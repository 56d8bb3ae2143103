"""DocFlow auth service."""
