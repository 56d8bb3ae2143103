"""The service objects one signing process holds, built in ``lifespan``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from docflow_signing.certificates.service import CertificateService
from docflow_signing.requests.service import SignatureRequestService
from docflow_signing.settings import SigningSettings
from docflow_signing.signatures.service import SignatureService


@dataclass(frozen=True, slots=True)
class SigningServices:
    settings: SigningSettings
    certificates: CertificateService
    signatures: SignatureService
    requests: SignatureRequestService


def get_services(request: Request) -> SigningServices:
    return request.app.state.services  # type: ignore[no-any-return]


Services = Annotated[SigningServices, Depends(get_services)]
