"""Passwords: forgot / reset by e-mailed token, change by the signed-in user."""
