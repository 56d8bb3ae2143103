"""Token signing keys and the JWKS."""
