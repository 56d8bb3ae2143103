"""DocFlow gateway: verifies tokens, routes and streams requests to the services."""
