"""SMTP sending: composing MIME messages and a small pool of reused connections."""
