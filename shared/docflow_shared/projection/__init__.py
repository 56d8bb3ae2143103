"""A service's projection of users, documents, files and share grants, kept from ``user.*`` and
``document.*`` events: the collections (``repository``), the caller's standing on a document
(``access``), what each consumed fact does (``service``) and the consumers (``handlers``).

Signing and routes each keep one in their own database; each extends these classes with what
only it needs (signing: IINs and Streebog digests; routes: the signatures made under requests)
and with what hangs on the projection there (the hooks of ``ProjectionService``)."""
