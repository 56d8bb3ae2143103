"""DocFlow routes: signature requests as routes of stages, driven by events."""
