"""Reads of documents and files, announced for the audit trail."""
