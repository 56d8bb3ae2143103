"""Password hashing, secrets and input rules of the auth service."""
