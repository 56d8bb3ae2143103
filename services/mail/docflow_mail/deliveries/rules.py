"""Which event leads to which e-mail: a table of rules (event type → template, recipients, data).

Adding an e-mail for a new event is one template pair per locale plus one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from docflow_mail.settings import MailSettings
from docflow_shared.events import EventPayload, Person
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    DocumentShared,
    DocumentSigned,
    RouteDeclined,
    RouteDelegated,
    RouteExpired,
    RouteExternalCodeRequested,
    RouteExternalInvited,
    RouteStageOpened,
    SignatureRequested,
    SignatureRequestExpired,
    UserEmailVerificationRequested,
    UserLocked,
    UserPasswordChanged,
    UserPasswordResetRequested,
    UserRegistered,
)

P = TypeVar("P", bound=EventPayload)


@dataclass(frozen=True)
class Recipient:
    """Who gets one e-mail: the address, a name to greet and the language to write in."""

    email: str
    name: str
    locale: str
    user_id: str | None = None


def person(p: Person) -> Recipient:
    return Recipient(email=p.email, name=p.full_name or p.email, locale=p.locale, user_id=p.user_id)


def account(data: Any) -> Recipient:
    """The user an auth event is about (user.* payloads carry email, full_name, locale)."""
    return Recipient(email=data.email, name=data.full_name or data.email, locale=data.locale,
                     user_id=data.user_id)


def document_link(settings: MailSettings, document_id: str) -> str:
    return settings.link(f"/documents/{document_id}")


def evidence_link(settings: MailSettings, document_id: str) -> str:
    """The document's evidence report (signing's ``GET /api/v1/documents/{id}/evidence``)."""
    return settings.link(f"/api/v1/documents/{document_id}/evidence")


def display_name(p: Person) -> str:
    return p.full_name or p.email


@dataclass(frozen=True)
class MailRule(Generic[P]):
    """One row of the table: an event type, its payload model, a template and how to fill it."""

    model: type[P]
    template: str
    recipients: Callable[[P], list[Recipient]]
    context: Callable[[P, MailSettings], dict[str, Any]]
    # template variables holding secrets: stored sealed, masked in the stored subject
    secret_fields: tuple[str, ...] = ()

    @property
    def event_type(self) -> str:
        return self.model.TYPE


def _verification(p: UserEmailVerificationRequested, s: MailSettings) -> dict[str, Any]:
    return {"code": p.code, "expires_at": p.expires_at,
            "link": f"{s.link(s.verify_email_path)}?token={p.token}"}


def _reset(p: UserPasswordResetRequested, s: MailSettings) -> dict[str, Any]:
    return {"token": p.token, "expires_at": p.expires_at,
            "link": f"{s.link(s.reset_password_path)}?token={p.token}"}


def _everyone(p: DocumentCompleted) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for who in [p.owner, *p.participants]:
        seen.setdefault(who.email.lower(), person(who))
    return list(seen.values())


def _people(*people: Person | None) -> list[Recipient]:
    """Each address once, in order; people known only by an address too."""
    seen: dict[str, Recipient] = {}
    for who in people:
        if who is not None and who.email:
            seen.setdefault(who.email.lower(), person(who))
    return list(seen.values())


def _invited(p: RouteExternalInvited, s: MailSettings) -> dict[str, Any]:
    action = {"ru": {"approve": "согласовать", "sign": "подписать", "cc": "прочитать"},
              "en": {"approve": "approve", "sign": "sign", "cc": "read"}}[p.recipient.locale][p.role]
    return {"title": p.title, "owner_name": display_name(p.owner), "action": action, "link": p.link,
            "expires_at": p.expires_at, "reminder": p.reminder}


RULES: tuple[MailRule[Any], ...] = (
    MailRule(UserRegistered, "welcome", lambda p: [account(p)], lambda p, s: {}),
    MailRule(UserEmailVerificationRequested, "email_verification", lambda p: [account(p)], _verification,
             secret_fields=("code", "link")),
    MailRule(UserPasswordResetRequested, "password_reset", lambda p: [account(p)], _reset,
             secret_fields=("token", "link")),
    MailRule(
        UserPasswordChanged, "password_changed", lambda p: [account(p)],
        lambda p, s: {"changed_at": p.changed_at, "reason": p.reason,
                      "reset_link": s.link(s.reset_password_path)},
    ),
    MailRule(
        UserLocked, "account_locked", lambda p: [account(p)],
        lambda p, s: {"locked_until": p.locked_until, "failed_attempts": p.failed_attempts,
                      "reset_link": s.link(s.reset_password_path)},
    ),
    MailRule(
        DocumentShared, "document_shared", lambda p: [person(p.recipient)],
        lambda p, s: {"title": p.title, "owner_name": display_name(p.owner), "permission": p.permission,
                      "message": p.message, "link": document_link(s, p.document_id)},
    ),
    MailRule(
        SignatureRequested, "signature_requested", lambda p: [person(p.signer)],
        lambda p, s: {"title": p.title, "owner_name": display_name(p.owner), "message": p.message,
                      "expires_at": p.expires_at, "reminder": p.reminder,
                      "link": document_link(s, p.document_id)},
    ),
    MailRule(
        SignatureRequestExpired, "signature_request_expired", lambda p: [person(p.owner)],
        lambda p, s: {"title": p.title, "pending": [display_name(x) for x in p.pending_signers],
                      "link": document_link(s, p.document_id)},
    ),
    MailRule(
        DocumentSigned, "document_signed", lambda p: [person(p.owner)],
        lambda p, s: {"title": p.title, "signer_name": display_name(p.signer), "signed_at": p.signed_at,
                      "link": document_link(s, p.document_id)},
    ),
    MailRule(
        DocumentCompleted, "document_completed", _everyone,
        lambda p, s: {"title": p.title, "completed_at": p.completed_at,
                      "link": document_link(s, p.document_id), "evidence_link": evidence_link(s, p.document_id)},
    ),
    MailRule(RouteExternalInvited, "route_external_invited", lambda p: [person(p.recipient)], _invited,
             secret_fields=("link",)),
    MailRule(RouteExternalCodeRequested, "route_external_code", lambda p: [person(p.recipient)],
             lambda p, s: {"title": p.title, "code": p.code, "expires_at": p.expires_at}, secret_fields=("code",)),
    MailRule(
        RouteStageOpened, "route_stage_opened",  # signers hear through signature.requested, cc at the end
        lambda p: _people(*(x.person for x in p.participants if x.role == "approve" and x.person.user_id)),
        lambda p, s: {"title": p.title, "owner_name": display_name(p.owner), "stage": p.stage + 1,
                      "reminder": p.reminder, "link": document_link(s, p.document_id)},
    ),
    MailRule(
        RouteDeclined, "route_declined", lambda p: _people(p.owner, *p.participants),
        lambda p, s: {"title": p.title, "actor_name": display_name(p.actor), "reason": p.reason,
                      "on_behalf_of": display_name(p.on_behalf_of) if p.on_behalf_of else "",
                      "link": document_link(s, p.document_id)},
    ),
    MailRule(
        RouteDelegated, "route_delegated",  # an outsider delegate gets their link instead
        lambda p: _people(p.delegator, p.delegate if p.delegate.user_id else None),
        lambda p, s: {"title": p.title, "delegator_name": display_name(p.delegator),
                      "delegate_name": display_name(p.delegate), "until": p.until, "standing": p.standing,
                      "link": document_link(s, p.document_id)},
    ),
    MailRule(  # the owner hears through signature.request_expired
        RouteExpired, "route_expired", lambda p: [r for r in _people(*p.pending) if r.email != p.owner.email],
        lambda p, s: {"title": p.title, "owner_name": display_name(p.owner)},
    ),
)

RULES_BY_TYPE: Mapping[str, MailRule[Any]] = {rule.event_type: rule for rule in RULES}
