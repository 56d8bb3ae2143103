"""Documents: create, read, list with filters and cursors, edits with versions, status rules, delete."""

from __future__ import annotations

from typing import Any

from docflow_dev.testing.events import EventTap


class TestCreate:
    async def test_owner_creates_a_draft_and_the_event_goes_out(self, api: Any, make_user: Any,
                                                                events: EventTap) -> None:
        owner = await make_user()
        doc = await api.create_document(owner, title="Акт сверки", description="Q3", tags=["Finance", "акт"])
        assert doc["status"] == "draft" and doc["version"] == 1 and doc["owner_id"] == owner.id
        assert doc["tags"] == ["finance", "акт"] and doc["permission"] == "owner"
        event = await events.wait_for("document.created", lambda e: e.data["document_id"] == doc["id"])
        assert event.data["owner_id"] == owner.id and event.data["title"] == "Акт сверки"
        assert event.producer == "documents"

    async def test_unverified_email_cannot_create(self, api: Any, make_user: Any, problem: Any) -> None:
        user = await make_user(verified=False)
        response = await api.http.post("/documents", json={"title": "x"}, headers=user.headers)
        problem(response, 403)

    async def test_without_a_token_is_401(self, api: Any, problem: Any) -> None:
        problem(await api.http.post("/documents", json={"title": "x"}), 401)
        problem(await api.http.get("/documents"), 401)

    async def test_invalid_bodies_are_problems(self, api: Any, make_user: Any, problem: Any) -> None:
        user = await make_user()
        for body in ({}, {"title": ""}, {"title": "x", "status": "signed"}, {"title": "x", "tags": ["a|b"]},
                     {"title": "x" * 301}):
            problem(await api.http.post("/documents", json=body, headers=user.headers), 422)
        response = await api.http.post("/documents", content=b"{not json", headers={
            **user.headers, "Content-Type": "application/json"})
        problem(response, 400)


class TestList:
    async def test_filters_search_and_cursor_pages(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        made = []
        for i in range(7):
            made.append(await api.create_document(
                owner, title=f"Счёт №{i}", content="Оплата услуг" if i % 2 else "Delivery terms",
                tags=["invoice"] if i < 3 else ["contract", "2026"],
            ))
        await api.http.patch(f"/documents/{made[0]['id']}", json={"status": "in_review"}, headers=owner.headers)

        async def ids(**params: Any) -> list[str]:
            response = await api.http.get("/documents", params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            return [d["id"] for d in response.json()["items"]]

        newest_first = [d["id"] for d in reversed(made)]
        assert await ids(limit=100) == newest_first
        assert set(await ids(tag="invoice")) == {d["id"] for d in made[:3]}
        assert set(await ids(tag="INVOICE")) == {d["id"] for d in made[:3]}
        assert await ids(tag="inv") == []
        assert set(await ids(q="оплата")) == {d["id"] for d in made if made.index(d) % 2}
        assert set(await ids(q="DELIVERY")) == {d["id"] for d in made if made.index(d) % 2 == 0}
        assert await ids(q="счёт №3") == [made[3]["id"]]
        assert await ids(q=".*") == []
        assert await ids(status="in_review") == [made[0]["id"]]

        pages: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            response = await api.http.get("/documents", params=params, headers=owner.headers)
            body = response.json()
            pages += [d["id"] for d in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert pages == newest_first

    async def test_other_users_documents_are_not_listed(self, api: Any, make_user: Any) -> None:
        first, second = await make_user(), await make_user()
        await api.create_document(first, title="private")
        response = await api.http.get("/documents", params={"scope": "all"}, headers=second.headers)
        assert response.json()["items"] == []

    async def test_bad_cursor_and_limit(self, api: Any, make_user: Any, problem: Any) -> None:
        user = await make_user()
        problem(await api.http.get("/documents", params={"cursor": "!!!"}, headers=user.headers), 400)
        problem(await api.http.get("/documents", params={"limit": 0}, headers=user.headers), 422)
        problem(await api.http.get("/documents", params={"scope": "everyone"}, headers=user.headers), 422)


class TestPages:
    async def test_a_full_last_page_has_no_cursor_to_an_empty_one(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner, title="v1")
        url = f"/documents/{doc['id']}"
        for title in ("v2", "v3", "v4"):  # each change keeps the state before it: versions 1..3
            assert (await api.http.patch(url, json={"title": title}, headers=owner.headers)).status_code == 200
        only = (await api.http.get("/documents", params={"limit": 1}, headers=owner.headers)).json()
        assert [d["id"] for d in only["items"]] == [doc["id"]] and only["next_cursor"] is None
        versions = (await api.http.get(f"{url}/versions", params={"limit": 3}, headers=owner.headers)).json()
        assert [v["number"] for v in versions["items"]] == [3, 2, 1] and versions["next_cursor"] is None


class TestEditsAndVersions:
    async def test_every_change_keeps_the_previous_state(self, api: Any, make_user: Any,
                                                         events: EventTap) -> None:
        owner = await make_user()
        doc = await api.create_document(owner, title="v1", content="first")
        url = f"/documents/{doc['id']}"
        for title, content in (("v2", "second"), ("v3", "second"), ("v3", "third")):
            response = await api.http.patch(url, json={"title": title, "content": content}, headers=owner.headers)
            assert response.status_code == 200, response.text
        # no change, no version
        same = await api.http.patch(url, json={"title": "v3"}, headers=owner.headers)
        assert same.json()["version"] == 4
        versions = (await api.http.get(f"{url}/versions", headers=owner.headers)).json()["items"]
        assert [v["number"] for v in versions] == [3, 2, 1]
        assert [(v["title"], v["content"]) for v in versions] == [("v3", "second"), ("v2", "second"), ("v1", "first")]
        assert len({v["sha256"] for v in versions}) == 3 and all(len(v["sha256"]) == 64 for v in versions)
        one = await api.http.get(f"{url}/versions/1", headers=owner.headers)
        assert one.status_code == 200 and one.json()["content"] == "first"
        assert (await api.http.get(f"{url}/versions/4", headers=owner.headers)).status_code == 404
        assert (await api.http.get(f"{url}/versions/abc", headers=owner.headers)).status_code == 404
        page = (await api.http.get(f"{url}/versions", params={"limit": 2}, headers=owner.headers)).json()
        rest = await api.http.get(f"{url}/versions", params={"cursor": page["next_cursor"]}, headers=owner.headers)
        assert [v["number"] for v in rest.json()["items"]] == [1]
        await events.wait_for("document.updated", lambda e: e.data["document_id"] == doc["id"]
                              and e.data["version"] == 4)
        # one event per change; delivery is at least once, so a copy may arrive twice with its id
        updated = {e.id: e.data["version"] for e in events.of_type("document.updated")
                   if e.data["document_id"] == doc["id"]}
        assert sorted(updated.values()) == [2, 3, 4]

    async def test_status_transitions(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        url = f"/documents/{doc['id']}"

        async def move(status: str) -> Any:
            return await api.http.patch(url, json={"status": status}, headers=owner.headers)

        problem(await move("signed"), 409)
        assert (await move("in_review")).json()["status"] == "in_review"
        assert (await move("draft")).json()["status"] == "draft"
        assert (await move("archived")).json()["status"] == "archived"
        problem(await move("draft"), 409)
        problem(await api.http.patch(url, json={"content": "late"}, headers=owner.headers), 409)
        problem(await move("nonsense"), 422)

    async def test_delete_hides_then_purges(self, api: Any, make_user: Any, events: EventTap,
                                            wait_until: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        url = f"/documents/{doc['id']}"
        assert (await api.http.delete(url, headers=owner.headers)).status_code == 204
        assert (await api.http.get(url, headers=owner.headers)).status_code == 404
        assert (await api.http.delete(url, headers=owner.headers)).status_code == 404
        await events.wait_for("document.deleted", lambda e: e.data["document_id"] == doc["id"])

        async def purged() -> bool:
            return await api.db.documents.find_one({"_id": doc["id"]}) is None

        await wait_until(purged, what="purge of the deleted document")
