"""The caller's own account: profile, e-mail change, self-delete; lookup of others by e-mail."""
