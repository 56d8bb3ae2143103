"""Webhooks: the endpoints users register, their secrets and the addresses they may reach."""
