"""Backup and restore of a whole DocFlow installation (docs/architecture.md, "Backup and restore").

``python -m docflow_shared.backup create`` writes one directory: every service's database (GridFS
included), the signing trust store, the ids of the master keys the stored files need, and, only
with ``--include-keys``, the generated key material of the data dir, sealed with a passphrase.
``python -m docflow_shared.backup restore DIR`` puts it back into an empty installation.
"""
