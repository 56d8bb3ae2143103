"""What happens to an open signature request: stages opening, completion, closing, waiting signers bound.

Every transition is an ``outbox_rev``-guarded update retried on a stale read, so running it twice,
or in two replicas at once, has one effect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from docflow_routes.projection.repository import ProjectionRepository, SignatureDocument
from docflow_routes.requests import events
from docflow_routes.requests.access import CLOSED_WITHOUT_ACCESS, with_access
from docflow_routes.requests.repository import (
    SignatureRequestRepository,
    SignatureWithoutRightDocument,
    SignerDocument,
    StoredRequest,
)
from docflow_routes.requests.stages import (
    DONE,
    delegation_active,
    open_stage,
    role_of,
    rules_of,
    stage_of,
    your_turn,
)
from docflow_shared.events import Event, EventPayload, Person
from docflow_shared.events.catalogue import DocumentSigned
from docflow_shared.mongo import Document, utc_now
from docflow_shared.outbox import Whole, retry_stale

if TYPE_CHECKING:
    from docflow_routes.external.service import ExternalService



class RequestLifecycle:
    def __init__(self, *, repository: SignatureRequestRepository, projection: ProjectionRepository,
                 external: ExternalService, make_event: Callable[[EventPayload], Event],
                 reminder_seconds: float, reminder_limit: int) -> None:
        self.repository = repository
        self.projection = projection
        self.external = external
        self.make_event = make_event
        self.reminder = timedelta(seconds=reminder_seconds)
        self.reminder_limit = reminder_limit

    async def settle(self, request_id: str, announce: Sequence[Event] = ()) -> None:
        """Bring an open request up to date: open the next stage, or complete it. ``announce``
        rides in the same write (an approval that moved it on). An action is stored on its entry
        before it is announced, so another settle (the repair pass of a replica) may have closed
        the request in between; what the participant did is announced all the same."""

        async def attempt() -> None:
            request = await self._still_open(request_id, announce)
            if request is None:
                return
            entries = await self.repository.signers_of(request_id)
            for entry in entries:
                if entry["status"] == "pending" and role_of(entry) == "sign":
                    found = await self._signature_of(request_id, entry)
                    if found is not None:
                        await self.repository.mark_signed(entry["_id"], signature_id=found["_id"],
                                                          at=found["signed_at"], by=str(found["signer_id"]))
                        entry.update({"status": "signed", "signature_id": found["_id"]})
            now = utc_now()
            current = open_stage(request, entries)
            if current is None:
                acted = [e for e in entries if e["status"] in DONE]
                if not acted:
                    await self._close(request, "cancelled", "no signers left", entries, announce)
                    return
                await self._complete(request, entries, now, announce)
                return
            if request.get("current_stage") != current:
                opening = await self.opening(request, entries, current)
                await self.write(request, entries, {"current_stage": current, "reminders_sent": 0,
                                                     "next_reminder_at": now + self.interval(request)},
                                  [*announce, *opening])
                return
            await self.write(request, entries, {}, announce)

        await retry_stale(attempt)

    def interval(self, request: StoredRequest) -> timedelta:
        """The request's own reminder interval, else the default."""
        seconds = request.get("reminder_seconds")
        return timedelta(seconds=float(seconds)) if seconds else self.reminder

    async def write(self, request: Whole, entries: list[SignerDocument], changes: dict[str, Any],
                     to_send: Sequence[Event] = ()) -> Whole:
        """One guarded update of the request, with signing's snapshot when it changes; nothing
        is written when neither the request nor the snapshot changes."""
        changes, access_events = with_access(request, entries, changes, self.make_event)
        if not changes and not to_send:
            return request
        if changes.get("status") in CLOSED_WITHOUT_ACCESS:
            access_events += await self.external.revocations(request["_id"])
        return await self.repository.update(request, changes, [*to_send, *access_events])

    async def signature_made(self, signed: DocumentSigned) -> None:
        """Signing stored a signature made under a request: remember it, then settle the request
        (which marks the signer's entry and opens what comes next)."""
        if signed.request_id is None:
            return
        await self.projection.record_signature(signature_id=signed.signature_id, request_id=signed.request_id,
                                               signer_id=signed.signer.user_id, signed_at=signed.signed_at,
                                               signer_role=signed.signer_role, sign_right=signed.sign_right)
        await self.settle(signed.request_id)

    async def _signature_of(self, request_id: str, entry: SignerDocument) -> SignatureDocument | None:
        """The first signature made under the request by the participant or by their delegate. When
        the entry requires the right to sign, only signatures with it count; the others are kept under
        the entry (``signatures_without_sign_right``) for the API to show."""
        made: list[SignatureDocument] = []
        for signer in (entry["user_id"], entry.get("delegate_user_id"), f"ext:{entry['_id']}",
                       f"ext:{entry['_id']}:d"):
            if signer:
                made += await self.projection.signatures_for(request_id, str(signer))
        if entry.get("require_sign_right"):
            without: list[SignatureWithoutRightDocument] = [
                {"signature_id": s["_id"], "signed_at": s["signed_at"], "signer_role": s.get("signer_role")}
                for s in made if s.get("sign_right") is not True]
            if without != (entry.get("signatures_without_sign_right") or []):
                await self.repository.note_without_sign_right(entry["_id"], without)
                entry["signatures_without_sign_right"] = without
            made = [s for s in made if s.get("sign_right") is True]
        return made[0] if made else None

    async def opening(self, request: StoredRequest, entries: list[SignerDocument], stage: int) -> list[Event]:
        """A stage opens: ``route.stage_opened``, and ``signature.requested`` to its bound signers."""
        document = await self.projection.document(request["document_id"])
        title = title_of(document)
        owner = await self.projection.person(request["owner_id"])
        in_stage = [e for e in entries if stage_of(request, e) == stage]
        people = {e["_id"]: await self._person(e) for e in in_stage}
        rule = rules_of(request, entries)[stage]
        opened = [self.make_event(events.stage_opened(request, title=title, owner=owner, stage=stage, rule=rule,
                                                      entries=in_stage, people=people))]
        for entry in in_stage:
            if entry["status"] != "pending":
                continue
            if entry["user_id"] is not None and role_of(entry) == "sign":
                opened.append(self.make_event(events.requested(request, title=title, owner=owner,
                                                               signer=people[entry["_id"]])))
            opened += await self.links(request, entry, title=title, owner=owner)
        return opened

    async def links(self, request: StoredRequest, entry: SignerDocument, *, title: str, owner: Person,
                    reminder: bool = False) -> list[Event]:
        """Fresh links for the people outside DocFlow an entry has: its participant while no account
        has proven the address (when the entry lets them take part so), and the delegate of an
        active delegation to an address; when a stage opens, and again with each reminder."""
        links = []
        if entry["user_id"] is None and entry.get("external"):
            links.append(await self.external.invite(request, entry, title=title, owner=owner, reminder=reminder))
        if not entry.get("delegate_user_id") and delegation_active(entry):
            links.append(await self.external.invite(request, entry, title=title, owner=owner, delegate=True,
                                                    reminder=reminder))
        return links

    async def decline(self, request_id: str, declined: Event) -> None:
        """A participant declined: the route stops, and documents releases the document."""

        async def attempt() -> None:
            request = await self._still_open(request_id, [declined])
            if request is None:
                return
            entries = await self.repository.signers_of(request_id)
            await self._close(request, "declined", "declined", entries, [declined])

        await retry_stale(attempt)

    async def _still_open(self, request_id: str, announce: Sequence[Event]) -> Whole | None:
        """The request while it is open. Once closed (another settle got there first) the events of
        the action already stored on its entry still go into its outbox, nothing else of it
        changes, and None comes back."""
        request = await self.repository.get(request_id)
        if request is not None and request["status"] != "open":
            if announce:
                await self.repository.update(request, {}, announce)
            return None
        return request

    async def person_of(self, entry: SignerDocument) -> Person:
        return await self._person(entry)

    async def _person(self, entry: SignerDocument) -> Person:
        if entry["user_id"] is None:
            return Person(user_id="", email=str(entry.get("email") or ""))
        return await self.projection.person(entry["user_id"])

    async def _complete(self, request: Whole, entries: list[SignerDocument], now: datetime,
                        announce: Sequence[Event]) -> None:
        document = await self.projection.document(request["document_id"])
        title = title_of(document)
        owner = await self.projection.person(request["owner_id"])
        told = [e for e in entries if e["user_id"] != owner.user_id and (e["status"] in DONE or role_of(e) == "cc")]
        participants = [owner] + [await self._person(e) for e in told]
        for entry in entries:  # delegates who acted are told too
            if entry.get("delegate_user_id") and entry["status"] in DONE:
                participants.append(await self.projection.person(str(entry["delegate_user_id"])))
        done = [self.make_event(events.completed(request, title=title, owner=owner, participants=participants,
                                                 at=now)),
                self.make_event(events.route_completed(request, title=title, owner=owner,
                                                       participants=participants, at=now))]
        await self.write(request, entries, {"status": "completed", "closed_at": now, "close_reason": "completed"},
                          [*announce, *done])

    async def _close(self, request: Whole, status: str, reason: str, entries: list[SignerDocument],
                     announce: Sequence[Event] = ()) -> None:
        event = self.make_event(events.cancelled(request, user_ids(entries)))
        await self.write(request, entries, {"status": status, "closed_at": utc_now(), "close_reason": reason},
                          [*announce, event])

    async def close_for_deleted_document(self, document_id: str) -> None:
        for request in await self.repository.open_for_documents(document_id):
            await self._close_quietly(request, "document deleted")

    async def remove_signer_everywhere(self, user_id: str) -> None:
        """A deleted user leaves every open request; their own open requests are cancelled."""
        for entry in await self.repository.pending_entries_of(user_id):
            await self.repository.mark_removed(entry["_id"])
            await self.settle(entry["request_id"])
        for request in await self.repository.open_owned_by(user_id):
            await self._close_quietly(request, "owner deleted")

    async def bind_waiting_signer(self, user_id: str, address: str) -> None:
        """Entries waiting for ``address`` become ``user_id``'s, who has just proven it; whoever's
        turn it now is gets ``signature.requested``. An entry is bound once (guarded on its empty
        user), so repeating this is harmless (docs/architecture.md, "Recipients")."""
        user = await self.projection.user(user_id)
        if user is None:
            return
        for entry in await self.repository.waiting_for(address):
            request = await self.repository.get(entry["request_id"])
            if request is None:
                continue
            if request["status"] != "open" or entry["status"] != "pending":  # history: theirs from now on
                await self.repository.bind(entry["_id"], user_id=user_id, full_name=str(user.get("full_name") or ""))
                continue
            siblings = await self.repository.signers_of(request["_id"])
            if any(e["user_id"] == user_id for e in siblings):
                await self.repository.mark_removed(entry["_id"])  # already asked under another address
                await self.settle(request["_id"])
                continue
            if await self.repository.bind(entry["_id"], user_id=user_id, full_name=str(user.get("full_name") or "")):
                await self._announce_turn(request["_id"], entry["_id"])

    async def _announce_turn(self, request_id: str, entry_id: str) -> None:
        async def attempt() -> None:
            request = await self.repository.get(request_id)
            if request is None or request["status"] != "open":
                return
            entries = await self.repository.signers_of(request_id)
            entry = next((e for e in entries if e["_id"] == entry_id), None)
            if entry is None or entry["user_id"] is None:
                return
            if not your_turn(request, entries, entry) or role_of(entry) != "sign":
                await self.write(request, entries, {})  # signing learns the participant's standing
                return
            document = await self.projection.document(request["document_id"])
            owner = await self.projection.person(request["owner_id"])
            signer = await self.projection.person(entry["user_id"])
            turn = events.requested(request, title=title_of(document), owner=owner,
                                    signer=signer)
            await self.write(request, entries, {}, [self.make_event(turn)])

        await retry_stale(attempt)

    async def _close_quietly(self, request: StoredRequest, reason: str) -> None:
        async def attempt() -> None:
            current = await self.repository.get(request["_id"])
            if current is None or current["status"] != "open":
                return
            await self._close(current, "cancelled", reason, await self.repository.signers_of(current["_id"]))

        await retry_stale(attempt)


def title_of(document: Document | None) -> str:
    """A projected document's title; a document not (or no longer) projected has none."""
    return str((document or {}).get("title") or "")


def user_ids(entries: list[SignerDocument]) -> list[str]:
    return [e["user_id"] for e in entries if e["user_id"] is not None]
