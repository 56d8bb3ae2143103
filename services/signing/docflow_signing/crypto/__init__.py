"""X.509 and CMS: parsing, trust evaluation, signature verification, development CA."""
