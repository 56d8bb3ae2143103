"""Sessions: login, refresh-token rotation with reuse detection, logout, the session list."""
