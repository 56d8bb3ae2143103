"""DocFlow's shared platform package."""
