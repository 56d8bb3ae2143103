"""Live streams of a user's events: WebSocket and Server-Sent Events, with replay."""
