"""The trust store: CA certificates from a directory, and certificate path validation against it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, cast

from asn1crypto import pem, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

logger = logging.getLogger(__name__)

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


@dataclass(frozen=True, slots=True)
class TrustResult:
    """Whether a certificate chains to the trust store at a moment, and the path found."""

    trusted: bool
    reason: str | None = None
    chain: list[str] = field(default_factory=list)
    expired: bool = False


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM (one or more blocks) or DER file."""
    data = path.read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


class TrustStore:
    """Trusted roots read from a directory; re-read when the directory changes."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        revocation_check: bool = False,
        revocation_mode: str = "soft-fail",
        recheck_seconds: float = 5.0,
    ) -> None:
        self.directory = Path(directory)
        self.revocation_check = revocation_check
        self.revocation_mode = revocation_mode
        self.recheck_seconds = recheck_seconds
        self._roots: list[x509.Certificate] = []
        self._stamp: tuple[float, int] | None = None
        self._checked_at = 0.0
        self.reload()

    @property
    def roots(self) -> list[x509.Certificate]:
        if time.monotonic() - self._checked_at > self.recheck_seconds:
            self._checked_at = time.monotonic()
            if self._directory_stamp() != self._stamp:
                self.reload()
        return self._roots

    def _directory_stamp(self) -> tuple[float, int] | None:
        try:
            files = [p for p in self.directory.iterdir() if p.suffix.lower() in CERT_SUFFIXES]
        except OSError:
            return None
        latest = max((p.stat().st_mtime for p in files), default=0.0)
        return (max(latest, self.directory.stat().st_mtime), len(files))

    def reload(self) -> None:
        roots: list[x509.Certificate] = []
        if self.directory.is_dir():
            for path in sorted(self.directory.iterdir()):
                if path.suffix.lower() not in CERT_SUFFIXES:
                    continue
                try:
                    roots.extend(read_certificates(path))
                except (OSError, ValueError, TypeError) as exc:
                    logger.warning("skipping unreadable trust anchor %s: %r", path, exc)
        else:
            logger.warning("trust directory %s does not exist: no signature is trusted; put CA certificates "
                           "there (docflow-signing dev-ca makes a development CA)", self.directory)
        self._roots = roots
        self._stamp = self._directory_stamp()
        self._checked_at = time.monotonic()
        logger.info("trust store: %d CA certificate(s) from %s", len(roots), self.directory)

    def context(self, moment: datetime | None = None,
                other_certs: Iterable[x509.Certificate] = ()) -> ValidationContext:
        """A fresh validation context (contexts hold per-validation state; never share one).

        Paths are validated at ``moment`` (now when None): the time DocFlow received a signature,
        or the earlier time a trusted timestamp proves. With revocation checking, CRLs/OCSP are
        fetched now and applied to ``moment``: a certificate revoked before it is refused, one
        revoked after a proven earlier time is not.
        """
        if self.revocation_check:
            return ValidationContext(
                trust_roots=list(self.roots), other_certs=list(other_certs), moment=moment,
                best_signature_time=moment, allow_fetching=True, revocation_mode=self.revocation_mode,
                retroactive_revinfo=moment is not None,
            )
        return ValidationContext(
            trust_roots=list(self.roots), other_certs=list(other_certs), moment=moment,
            best_signature_time=moment, allow_fetching=False, revocation_mode="soft-fail",
        )

    async def evaluate(self, cert: x509.Certificate, *, moment: datetime | None = None,
                       other_certs: Iterable[x509.Certificate] = ()) -> TrustResult:
        """Validate the path of ``cert`` to a trusted root at ``moment`` (now when None)."""
        if not self.roots:
            return TrustResult(False, "The trust store is empty.")
        others = list(other_certs)
        context = self.context(moment, others)
        validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
        try:
            path = await validator.async_validate_path()
        except ExpiredError as exc:
            return TrustResult(False, _message(exc), expired=True)
        except NotYetValidError as exc:
            return TrustResult(False, _message(exc), expired=True)
        except RevokedError as exc:
            return TrustResult(False, _message(exc))
        except PathBuildingError:
            return TrustResult(False, "The certificate does not chain to a trusted CA.")
        except (PathValidationError, InvalidCertificateError, ValidationError) as exc:
            return TrustResult(False, _message(exc))
        except Exception as exc:  # malformed ASN.1 or an unsupported key inside the certificate
            logger.info("certificate validation failed: %r", exc)
            return TrustResult(False, "The certificate cannot be validated (malformed or unsupported).")
        finally:
            await release(context)
        return TrustResult(True, None, [c.subject.human_friendly for c in path.iter_certs(include_root=True)])


class _Closable(Protocol):
    """``ValidationContext.aclose`` as it behaves: pyhanko_certvalidator leaves it unannotated."""

    async def aclose(self) -> None: ...


async def release(context: ValidationContext) -> None:
    """Close the HTTP session a context opened to fetch CRLs/OCSP (one per context otherwise leaks)."""
    await cast(_Closable, context).aclose()


def _message(exc: ValidationError) -> str:
    return str(getattr(exc, "failure_msg", None) or exc)
