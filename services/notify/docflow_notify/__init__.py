"""DocFlow notify service."""
