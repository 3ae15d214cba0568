"""The async endpoints' checks and answers, past the key, rate and fault checks that every
endpoint shares (`service.py`): each `prepare_*` returns a refusal `Reply`, or the action
that answers once the request holds one of the open-call slots.

Refusals, in order: the body's schema (400, naming the field and, in a batch, the
contact); under the current rules a phone or personal email without `linkedin_url` and a
personal email without the account's consent (422, the whole batch for bulk_enrich: "If
consent is missing the entire batch is rejected with 422 Unprocessable Entity", batch
page); an email without a domain or a company name (422, both async pages list one as
required); then, when the request is served, credits (see `async_lane.py`: held up front;
bulk_enrich refuses with 422 as its page says, single_enrich in the configured
out-of-credits form, as the sync lane does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .async_lane import AsyncLane
from .async_shapes import (
    CONTACT_PATH_PREFIX,
    Job,
    lacks_anchor,
    parse_bulk,
    parse_single,
    pending_body,
)
from .config import OutOfCreditsForm, SimulatorConfig
from .contact_request import (
    CONSENT_MESSAGE,
    NO_CREDITS_200_MESSAGE,
    NO_CREDITS_MESSAGE,
    BadRequest,
    EnrichRequest,
)
from .reply import Reply

ANCHOR_MESSAGE = (
    "domain or company_name is required when enrichment_type is email: "
    "add the company's website or name."
)
Action = Callable[[], Reply]


class AsyncEndpoints:
    """single_enrich, bulk_enrich and GET /contacts/{id} on top of an `AsyncLane`."""

    def __init__(
        self,
        lane: AsyncLane,
        config: Callable[[], SimulatorConfig],
        refusal: Callable[[EnrichRequest], Reply | None],
        count_out_of_credits: Callable[[], OutOfCreditsForm],
    ) -> None:
        self._lane = lane
        self._config = config
        self._refusal = refusal
        self._count_out_of_credits = count_out_of_credits

    def prepare_single(self, body: bytes) -> Reply | Action:
        try:
            request, webhook_url = parse_single(body, self._config())
        except BadRequest as exc:
            return Reply(400, {"message": str(exc)})
        refusal = self._refusal(request) or _anchor_refusal([request])
        if refusal is not None:
            return refusal

        def submit() -> Reply:
            available = self._lane.credits_available
            if available == 0 or available < self._lane.hold_for(request):
                return self._out_of_credits(request)
            (job,) = self._lane.submit([request], webhook_url)
            return Reply(200, pending_body(job))

        return submit

    def prepare_bulk(self, body: bytes) -> Reply | Action:
        try:
            requests, webhook_url = parse_bulk(body, self._config())
        except BadRequest as exc:
            return Reply(400, {"message": str(exc)})
        # Pronto's rules are the batch's: the first contact that breaks one refuses them all.
        for index, request in enumerate(requests):
            refusal = self._refusal(request)
            if refusal is not None:
                return _for_contact(refusal, index)
        anchor = _anchor_refusal(requests)
        if anchor is not None:
            return anchor

        def submit() -> Reply:
            needed = sum(self._lane.hold_for(request) for request in requests)
            available = self._lane.credits_available
            if available == 0 or available < needed:
                self._count_out_of_credits()
                # "If your balance is insufficient the request is rejected with 422" (batch page).
                return Reply(422, {"message": NO_CREDITS_MESSAGE})
            jobs = self._lane.submit(requests, webhook_url)
            return Reply(202, {"enrichment_id": self._lane.new_bulk_job(jobs), "status": "queued"})

        return submit

    def _out_of_credits(self, request: EnrichRequest) -> Reply:
        """single_enrich refused for lack of credits in the configured form (as on sync)."""
        form = self._count_out_of_credits()
        if form != "200":
            return Reply(int(form), {"message": NO_CREDITS_MESSAGE})
        body = pending_body(Job("", request, None, 0))
        del body["enrichment_id"]  # nothing was queued: there is no enrichment to poll
        return Reply(200, {**body, "status": "error", "message": NO_CREDITS_200_MESSAGE})

    def prepare_poll(self, path: str) -> Reply | Action:
        enrichment_id = path.removeprefix(CONTACT_PATH_PREFIX)

        def answer() -> Reply:
            job = self._lane.poll(enrichment_id)
            if job is None:
                if self._lane.is_bulk_job(enrichment_id):
                    return Reply(404, {"message": _BULK_ID_MESSAGE})
                return Reply(404, {"message": _unknown_id_message(enrichment_id)})
            body: dict[str, Any] = job.result if job.result is not None else pending_body(job)
            return Reply(200, body)

        return answer


_BULK_ID_MESSAGE = (
    "This is a bulk job's id, not a contact's: each contact's own enrichment_id comes in "
    "its webhook payload; to poll contacts one by one, submit them with single_enrich."
)


def _unknown_id_message(enrichment_id: str) -> str:
    return (
        f"No enrichment has the id {enrichment_id[:80]!r}: poll with an enrichment_id "
        "that single_enrich answered (or a webhook payload carried)."
    )


def _anchor_refusal(requests: list[EnrichRequest]) -> Reply | None:
    missing = [index for index, request in enumerate(requests) if lacks_anchor(request)]
    if not missing:
        return None
    if len(requests) == 1:
        return Reply(422, {"message": ANCHOR_MESSAGE})
    return _for_contact(Reply(422, {"message": ANCHOR_MESSAGE}), missing[0])


def _for_contact(refusal: Reply, index: int) -> Reply:
    """A batch's refusal, naming the first contact that caused it (consent is the
    account's, not a contact's: its message stays Pronto's own words)."""
    assert refusal.body is not None
    if refusal.body.get("message") == CONSENT_MESSAGE:
        return refusal
    message = f"contacts[{index}]: {refusal.body['message']} No contact of the batch was queued."
    return Reply(refusal.status, {**refusal.body, "message": message}, refusal.headers)
