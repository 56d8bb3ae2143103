"""Settings of the signing service (prefix ``SIGNING_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings, env_alias


class SigningSettings(ServiceSettings):
    """Trust store, revocation policy and upload limits."""

    model_config = SettingsConfigDict(env_prefix="SIGNING_")

    service_name: ClassVar[str] = "signing"

    trust_dir: str = ""
    """Directory of trusted CA certificates (PEM or DER files, several PEM blocks per file allowed);
    default ``$DATA_DIR/signing/trust``, else ``./trust``."""
    data_dir: str = Field("", validation_alias=env_alias("DATA_DIR"))
    allow_untrusted: bool = False
    """Store intact signatures (and accept certificates) that do not chain to the trust store."""
    revocation_check: bool = False
    """Check the signer certificate's revocation (OCSP from its AIA, else the CRL of its distribution
    point) when a signature is accepted or verified; off by default."""
    revocation_unknown: Literal["accept", "refuse"] = "accept"
    """What a signature gets when no revocation source answers: accepted and marked
    ``revocation unknown``, or refused with 422 ``revocation-unknown``."""
    revocation_url_map: dict[str, str] = Field(default_factory=dict)
    """URL prefix -> replacement (an http(s) URL prefix, or a local directory/file path) for CRL and
    OCSP addresses: mirrors in closed networks, local files in tests. JSON in the environment."""
    revocation_timeout_seconds: float = 10.0
    """Per fetch of a CRL or an OCSP response."""
    tsa_trust_dir: str = ""
    """Directory of trusted time-stamping CAs; default: the trust directory."""
    tsa_url: str = ""
    """RFC 3161 TSA that DocFlow asks for an archive timestamp of every accepted signature; off when empty."""
    tsa_timeout_seconds: float = 10.0
    max_signature_bytes: int = 1_000_000
    max_certificate_bytes: int = 100_000
    max_verify_file_bytes: int = 100 * 1024 * 1024
    clock_skew_seconds: int = 300
    digest_wait_seconds: float = 15.0
    """How long the first GOST signature of a stored file waits for documents to send the file's
    Streebog digest before answering 503 ``file-digest-pending``."""
    evidence_seal_cert: str = ""
    """PEM certificate (with its chain after it, if any) that seals evidence PDFs; when empty, development
    makes a seal in ``$DATA_DIR/signing/seal/`` and production answers evidence PDFs with 503
    (docs/architecture.md, "Evidence")."""
    evidence_seal_key: str = ""
    """The seal certificate's private key (PEM, unencrypted)."""
    evidence_font_dir: str = "/usr/share/fonts/truetype/dejavu"
    """Where ``DejaVuSans.ttf`` is (Debian ``fonts-dejavu-core``)."""

    @property
    def seal_dir(self) -> Path:
        return (Path(self.data_dir) if self.data_dir else Path(".data")) / "signing" / "seal"

    @property
    def tsa_trust_path(self) -> Path:
        return Path(self.tsa_trust_dir) if self.tsa_trust_dir else self.trust_path

    @property
    def trust_path(self) -> Path:
        if self.trust_dir:
            return Path(self.trust_dir)
        return Path(self.data_dir) / "signing" / "trust" if self.data_dir else Path("trust")
