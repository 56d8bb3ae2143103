"""Deliveries: one e-mail to one recipient for one event, from rendering to the SMTP reply."""
