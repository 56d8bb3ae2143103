"""Administration of accounts: list, read, role and block, unlock."""
