"""Who an event concerns, and the links its notification carries (never content)."""

from __future__ import annotations

from docflow_notify.streams.concerns import concerned_users, document_owner, links


def person(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "email": f"{user_id}@example.com", "full_name": user_id}


class TestConcernedUsers:
    def test_a_share_concerns_its_recipient_only(self) -> None:
        data = {"document_id": "d1", "title": "T", "owner": person("owner"), "recipient": person("reader"),
                "permission": "read"}
        assert concerned_users("document.shared", data) == ["reader"]

    def test_a_signature_request_concerns_the_signer(self) -> None:
        assert concerned_users("signature.requested", {"signer": person("s"), "owner": person("o")}) == ["s"]

    def test_completion_concerns_the_owner_and_every_participant_once(self) -> None:
        data = {"owner": person("o"), "participants": [person("a"), person("o"), person("b")]}
        assert concerned_users("document.completed", data) == ["o", "a", "b"]

    def test_a_comment_concerns_the_owner_unless_they_wrote_it(self) -> None:
        assert concerned_users("document.commented", {"owner_id": "o", "author_id": "a"}) == ["o"]
        assert concerned_users("document.commented", {"owner_id": "o", "author_id": "o"}) == []

    def test_route_events_are_read_by_the_catalogue_field_names(self) -> None:
        data = {"route_id": "r", "document_id": "d", "owner_id": "o", "participant_ids": ["p1", "p2"]}
        assert concerned_users("route.stage_opened", data) == ["o", "p1", "p2"]

    def test_a_failed_mail_concerns_its_user(self) -> None:
        assert concerned_users("mail.failed", {"user_id": "u", "recipient": "u@example.com"}) == ["u"]
        assert concerned_users("mail.failed", {"recipient": "u@example.com"}) == []

    def test_other_events_concern_nobody(self) -> None:
        assert concerned_users("user.registered", {"user_id": "u"}) == []


class TestLinks:
    def test_links_point_into_the_api_and_carry_no_content(self) -> None:
        data = {"document_id": "d1", "title": "Secret plans", "recipient": person("r"), "message": "hi"}
        found = links("document.shared", data)
        assert found == {"document": "/api/v1/documents/d1", "inbox": "/api/v1/inbox"}
        assert "Secret plans" not in str(found)


class TestDocumentOwner:
    def test_from_an_id_or_a_person(self) -> None:
        assert document_owner({"owner_id": "o"}) == "o"
        assert document_owner({"owner": person("p")}) == "p"
        assert document_owner({}) is None
