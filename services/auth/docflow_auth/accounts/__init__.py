"""Accounts: signup, availability, e-mail verification; the users collection."""
