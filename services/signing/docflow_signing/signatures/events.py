"""Events a stored signature announces."""

from __future__ import annotations

from typing import Any

from docflow_shared.events import Client, Person
from docflow_shared.events.catalogue import DocumentSigned
from docflow_signing.crypto.signing_times import SigningTimes


def signed(*, document_id: str, file_id: str, signature_id: str, title: str, signer: Person, owner: Person,
           times: SigningTimes, request_id: str | None, kz_signer: dict[str, Any] | None = None,
           on_behalf_of: Person | None = None, client: Client | None = None) -> DocumentSigned:
    """``signed_at`` is the time DocFlow vouches for; the signer's claim travels apart, as claimed.
    A Kazakh certificate's role and right to sign go along (``kz_signer`` of the report); so does the
    route participant a delegate signed for (``on_behalf_of``), and where the upload came from."""
    return DocumentSigned(document_id=document_id, file_id=file_id, signature_id=signature_id, title=title,
                          signer=signer, owner=owner, signed_at=times.moment, request_id=request_id,
                          on_behalf_of=on_behalf_of,
                          received_at=times.received_at, claimed_signing_time=times.claimed,
                          timestamp_time=times.timestamp, time_basis=times.basis,
                          signer_role=(kz_signer or {}).get("role"), sign_right=(kz_signer or {}).get("sign_right"),
                          client=client or Client())
