"""Test fixtures on real servers (MongoDB-wire, RabbitMQ, SMTP); see ``plugin``."""
