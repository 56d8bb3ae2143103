"""DocFlow signing service."""
