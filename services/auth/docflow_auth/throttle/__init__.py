"""Per-account rate limits (login, forgot password, resend verification)."""
