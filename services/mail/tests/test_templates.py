"""The template table: every rule has both parts in both locales; escaping, layout, inlined CSS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
import pytest

from docflow_mail.deliveries.rules import RULES, RULES_BY_TYPE
from docflow_mail.settings import MailSettings
from docflow_mail.templates.renderer import TemplateRenderer
from docflow_shared.events import CATALOGUE, Person

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ANN = Person(user_id="u1", email="ann@example.test", full_name="Ann <Admin>", locale="en")
BOB = Person(user_id="u2", email="bob@example.test", full_name="Бобур", locale="ru")
SAMPLES: dict[str, dict[str, Any]] = {
    "user.registered": {"user_id": "u1", "email": "ann@example.test", "full_name": "Ann", "locale": "en"},
    "user.email_verification_requested": {"user_id": "u1", "email": "a@x.test", "full_name": "Ann", "code": "123456",
                                          "token": "t1", "expires_at": NOW},
    "user.password_reset_requested": {"user_id": "u1", "email": "a@x.test", "full_name": "Ann", "token": "r1",
                                      "expires_at": NOW},
    "user.password_changed": {"user_id": "u1", "email": "a@x.test", "full_name": "Ann", "changed_at": NOW,
                              "reason": "reset"},
    "user.locked": {"user_id": "u1", "email": "a@x.test", "full_name": "Ann", "locked_until": NOW,
                    "failed_attempts": 5},
    "document.shared": {"document_id": "d1", "title": "Plan", "owner": ANN, "recipient": BOB,
                        "permission": "comment", "message": "please look"},
    "signature.requested": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN, "signer": BOB,
                            "expires_at": NOW + timedelta(days=3), "reminder": True},
    "signature.request_expired": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN,
                                  "pending_signers": [BOB]},
    "document.signed": {"document_id": "d1", "file_id": "f1", "signature_id": "s1", "title": "Plan", "signer": BOB,
                        "owner": ANN, "signed_at": NOW},
    "document.completed": {"document_id": "d1", "request_id": "r1", "title": "Plan", "owner": ANN,
                           "participants": [ANN, BOB], "completed_at": NOW},
    "route.external_invited": {"user_id": "l1", "request_id": "r1", "document_id": "d1", "title": "Plan",
                               "owner": ANN, "recipient": {"user_id": "", "email": "out@x.test", "locale": "en"},
                               "role": "sign", "link": "https://docflow.example.kz/external/t1", "expires_at": NOW},
    "route.external_code_requested": {"user_id": "l1", "request_id": "r1", "title": "Plan", "code": "123456",
                                      "recipient": {"user_id": "", "email": "out@x.test"}, "expires_at": NOW},
    "route.stage_opened": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN, "stage": 0,
                           "rule": "all", "participants": [{"person": BOB, "role": "approve", "stage": 0},
                                                           {"person": ANN, "role": "sign", "stage": 0}]},
    "route.declined": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN, "stage": 1,
                       "actor": BOB, "reason": "Пункт 4 <неверен>", "participants": [ANN, BOB], "declined_at": NOW},
    "route.expired": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN, "pending": [ANN, BOB],
                      "expired_at": NOW},
    "route.delegated": {"request_id": "r1", "document_id": "d1", "title": "Plan", "owner": ANN, "delegator": BOB,
                        "delegate": ANN, "role": "sign", "until": NOW, "standing": True},
}
SETTINGS = MailSettings(public_base_url="https://docflow.example.kz/")


def render_all(event_type: str, locale: str) -> list[Any]:
    rule = RULES_BY_TYPE[event_type]
    payload = CATALOGUE[event_type].model_validate(SAMPLES[event_type])
    context = rule.context(payload, SETTINGS)
    renderer = TemplateRenderer()
    return [renderer.render(rule.template, locale, {**context, "name": r.name, "base_url": "https://docflow.example.kz"})
            for r in rule.recipients(payload)]


class TestTable:
    def test_the_issue_events_all_have_a_rule(self) -> None:
        assert set(RULES_BY_TYPE) == set(SAMPLES)
        assert len(RULES) == len(SAMPLES)

    @pytest.mark.parametrize("event_type", sorted(SAMPLES))
    @pytest.mark.parametrize("locale", ["ru", "en"])
    def test_renders_subject_text_and_html(self, event_type: str, locale: str) -> None:
        for message in render_all(event_type, locale):
            assert message.subject and "\n" not in message.subject
            assert message.text.strip() and "DocFlow" in message.text
            assert message.html.startswith("<!DOCTYPE html>") and f'lang="{locale}"' in message.html
            assert "<style" not in message.html and 'style="' in message.html
            assert "{{" not in message.text + message.html

    def test_subjects_are_localised(self) -> None:
        [ru] = render_all("user.password_reset_requested", "ru")
        [en] = render_all("user.password_reset_requested", "en")
        assert ru.subject == "Сброс пароля DocFlow" and en.subject == "Reset your DocFlow password"

    def test_links_come_from_public_base_url(self) -> None:
        [verify] = render_all("user.email_verification_requested", "en")
        assert "https://docflow.example.kz/api/v1/auth/email/verify?token=t1" in verify.text
        assert 'href="https://docflow.example.kz/api/v1/auth/email/verify?token=t1"' in verify.html
        [shared] = render_all("document.shared", "ru")
        assert "https://docflow.example.kz/documents/d1" in shared.text


class TestRecipients:
    def test_each_event_writes_to_the_right_people(self) -> None:
        def to(event_type: str) -> list[str]:
            payload = CATALOGUE[event_type].model_validate(SAMPLES[event_type])
            return [r.email for r in RULES_BY_TYPE[event_type].recipients(payload)]

        assert to("document.shared") == [BOB.email]
        assert to("signature.requested") == [BOB.email]
        assert to("signature.request_expired") == [ANN.email]
        assert to("document.signed") == [ANN.email]
        assert to("document.completed") == [ANN.email, BOB.email]  # owner once, though also a participant
        assert to("route.stage_opened") == [BOB.email]  # approvers; signers hear through signature.requested
        assert to("route.declined") == [ANN.email, BOB.email]
        assert to("route.delegated") == [BOB.email, ANN.email]
        assert to("route.external_invited") == ["out@x.test"]
        assert to("route.expired") == [BOB.email]  # the owner is told by signature.request_expired

    def test_recipient_locale_picks_the_language(self) -> None:
        payload = CATALOGUE["document.completed"].model_validate(SAMPLES["document.completed"])
        rule = RULES_BY_TYPE["document.completed"]
        assert [(r.email, r.locale) for r in rule.recipients(payload)] == [(ANN.email, "en"), (BOB.email, "ru")]


class TestEscaping:
    def test_html_escapes_and_text_does_not(self) -> None:
        [shared] = render_all("document.shared", "en")
        assert "Ann &lt;Admin&gt;" in shared.html and "Ann <Admin>" not in shared.html
        assert "Ann <Admin> shared" in shared.text
        assert shared.subject == "Ann <Admin> shared “Plan” with you"

    def test_reminder_flag_changes_the_subject(self) -> None:
        [reminder] = render_all("signature.requested", "ru")
        assert reminder.subject.startswith("Напоминание: ")

    @pytest.mark.parametrize(("locale", "prefix", "words"), [("en", "Reminder: ", "A reminder: "),
                                                             ("ru", "Напоминание: ", "Напоминаем: ")])
    def test_an_outsiders_reminder_says_so_in_both_languages(self, locale: str, prefix: str, words: str) -> None:
        recipient = {"user_id": "", "email": "out@x.test", "locale": locale}
        rule = RULES_BY_TYPE["route.external_invited"]
        renderer = TemplateRenderer()

        def rendered(reminder: bool) -> Any:
            payload = CATALOGUE["route.external_invited"].model_validate(
                {**SAMPLES["route.external_invited"], "recipient": recipient, "reminder": reminder})
            return renderer.render(rule.template, locale, {**rule.context(payload, SETTINGS), "name": "out@x.test",
                                                           "base_url": "https://docflow.example.kz"})

        reminder, first = rendered(True), rendered(False)
        assert reminder.subject.startswith(prefix) and not first.subject.startswith(prefix)
        assert reminder.subject.removeprefix(prefix) == first.subject
        assert words in reminder.text and words not in first.text
        assert f"<title>{prefix}" in reminder.html and prefix.strip() in reminder.html.split("<h1")[1]
        for message in (reminder, first):
            assert "https://docflow.example.kz/external/t1" in message.text
            assert 'href="https://docflow.example.kz/external/t1"' in message.html

    def test_an_invitation_from_before_the_reminder_flag_is_a_first_invitation(self) -> None:
        old = {k: v for k, v in SAMPLES["route.external_invited"].items() if k != "reminder"}
        payload = CATALOGUE["route.external_invited"].model_validate(old)
        assert payload.reminder is False  # type: ignore[attr-defined]
        [message] = render_all("route.external_invited", "en")
        assert message.subject.startswith("Ann <Admin> invites you")

    @pytest.mark.parametrize("locale", ["ru", "en"])
    def test_the_completion_mail_links_the_evidence(self, locale: str) -> None:
        evidence = "https://docflow.example.kz/api/v1/documents/d1/evidence"
        for message in render_all("document.completed", locale):
            assert evidence in message.text
            assert f'href="{evidence}"' in message.html
            assert "https://docflow.example.kz/documents/d1" in message.text

    def test_missing_data_is_an_error_not_an_empty_field(self) -> None:
        with pytest.raises(jinja2.UndefinedError):
            TemplateRenderer().render("email_verification", "en", {"name": "Ann", "link": "x",
                                                                   "expires_at": NOW})
