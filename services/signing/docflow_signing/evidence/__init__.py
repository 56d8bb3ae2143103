"""Evidence reports of a document: its files and digests, signatures, route and trail, as sealed PDF or JSON."""
