"""The async lane's bodies: what single_enrich and bulk_enrich accept, and what they answer.

- `POST /v2/contacts/single_enrich`
  (https://docs.prontohq.com/api-reference/endpoints/enrichments/single): the sync body
  plus `webhook_url`; answers at once `{enrichment_id, first_name, last_name, status:
  "pending", custom}`.
- `POST /v2/contacts/bulk_enrich`
  (https://docs.prontohq.com/api-reference/endpoints/enrichments/batch): `{contacts: [2 to
  100 contacts, each with its own custom], enrichment_type, webhook_url}`, one type for
  every contact; answers 202 `{enrichment_id, status: "queued"}`, the id of the job.
- `GET /v2/contacts/{id}`
  (https://docs.prontohq.com/api-reference/endpoints/contacts/single_enrich): `{enrichment_id,
  first_name, last_name, status: "pending" | "finished", email, email_status,
  personal_email, personal_email_status, phone: ["+E164", ...], custom}`; "email" fields
  "present if enrichment_type included email" (likewise personal email), `phone` always
  (an empty array when none is found).
Both async pages say to pass enrichment_type as "an array containing one of" the three
types: one type per request unless `async_types_per_request` allows more. Both list
"domain or company_name (when enrichment_type is ["email"])" among the required fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .config import SimulatorConfig
from .contact_request import (
    BadRequest,
    EnrichRequest,
    contact_from,
    json_object,
    parse_types,
)
from .outcomes import SimulatedOutcome

SINGLE_ENRICH_PATH = "/v2/contacts/single_enrich"
BULK_ENRICH_PATH = "/v2/contacts/bulk_enrich"
CONTACT_PATH_PREFIX = "/v2/contacts/"
BULK_MIN, BULK_MAX = 2, 100

JobState = Literal["waiting", "processing", "finished"]


@dataclass
class Job:
    """One contact submitted to the async lane; `result` is set once it is finished."""

    enrichment_id: str
    request: EnrichRequest
    webhook_url: str | None
    hold: int
    bulk_id: str | None = None
    state: JobState = "waiting"
    result: dict[str, Any] | None = None


def one_type_message(limit: int) -> str:
    if limit == 1:
        return (
            "The async endpoints take one enrichment type per request: send "
            '["email"], ["phone"] or ["personal_email"], one request per type.'
        )
    return f"The async endpoints take at most {limit} enrichment types per request."


def _async_types(data: dict[str, Any], config: SimulatorConfig) -> tuple[str, ...]:
    types = parse_types(data.get("enrichment_type"), config.rules)
    if len(types) > config.async_types_per_request:
        raise BadRequest(one_type_message(config.async_types_per_request))
    return types


def _webhook_url(data: dict[str, Any]) -> str | None:
    url = data.get("webhook_url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise BadRequest("webhook_url must be a string: the URL the result is POSTed to.")
    return url


def parse_single(body: bytes, config: SimulatorConfig) -> tuple[EnrichRequest, str | None]:
    """A single_enrich body: the contact (with its types) and its webhook URL, or `BadRequest`."""
    data = json_object(body)
    types = _async_types(data, config)
    return contact_from(data, types), _webhook_url(data)


def parse_bulk(body: bytes, config: SimulatorConfig) -> tuple[list[EnrichRequest], str | None]:
    """A bulk_enrich body: its contacts, each with the batch's types, and the webhook URL."""
    data = json_object(body)
    types = _async_types(data, config)
    contacts = data.get("contacts")
    if not isinstance(contacts, list) or not BULK_MIN <= len(contacts) <= BULK_MAX:
        raise BadRequest(
            f"contacts must be a list of {BULK_MIN} to {BULK_MAX} contacts; "
            "send one contact to /v2/contacts/single_enrich and more than 100 in several batches."
        )
    requests = []
    for index, contact in enumerate(contacts):
        where = f"contacts[{index}]: "
        if not isinstance(contact, dict):
            raise BadRequest(f"{where}each contact must be a JSON object.")
        requests.append(contact_from(contact, types, where))
    return requests, _webhook_url(data)


def lacks_anchor(request: EnrichRequest) -> bool:
    """An email asked without a domain or a company name (the async pages require one)."""
    return request.wants_email and not (
        (request.domain or "").strip() or (request.company_name or "").strip()
    )


def pending_body(job: Job) -> dict[str, Any]:
    """single_enrich's answer, and GET /contacts/{id} while the contact is not finished."""
    request = job.request
    body: dict[str, Any] = {
        "enrichment_id": job.enrichment_id,
        "first_name": request.firstname,
        "last_name": request.lastname,
        "status": "pending",
    }
    if request.custom is not None:
        body["custom"] = request.custom
    return body


def finished_body(job: Job, outcome: SimulatedOutcome, found: tuple[str, ...]) -> dict[str, Any]:
    """GET /contacts/{id} once finished, and the webhook's payload: `found` types have values."""
    request = job.request
    body = pending_body(job)
    body["status"] = "finished"
    if request.wants_email:
        email_found = "email" in found
        body["email"] = outcome.email if email_found else None
        body["email_status"] = outcome.email_status if email_found else "N/A"
    if request.wants_personal_email:
        personal_found = "personal_email" in found
        body["personal_email"] = outcome.personal_email if personal_found else None
        body["personal_email_status"] = outcome.personal_email_status if personal_found else "N/A"
    body["phone"] = list(outcome.phones) if "phone" in found else []
    if request.custom is not None:
        body["custom"] = body.pop("custom")  # after the data, as the page's example has it
    return body
