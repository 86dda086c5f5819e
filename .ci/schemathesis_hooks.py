"""Schemathesis hooks for .ci/run (loaded through SCHEMATHESIS_HOOKS).

Generated Idempotency-Key values repeat a lot (short strings such as "0"),
and a repeat is, correctly, answered with the first request's answer: 201
and the activity it created, even if a later step has deleted it since, or
422 when the body differs. Stateful checks then take the replayed 201 for a
fresh activity and report it missing. So every valid generated key is made
unique before it is sent; invalid ones are left alone, so that negative
tests still send them. Replays and 422 are covered by tests/suite/openapi.rs and
tests/suite/api.rs.

A contact_id must name a contact of the caller's organisation, which the
config's seeded_contacts dictionary arranges for strings; a whole number is
valid too (numeric CRM ids), but no seeded contact has one, so a generated
integer is sent as one of the seed's ids instead. Numeric ids are covered
by tests/suite/connector_needs.rs.

An Insightly event (`serve --crm insightly`) must not end before it starts,
which a schema cannot say across two fields: a generated valid event whose
END_DATE_UTC is before its START_DATE_UTC gets the two swapped, and a PUT
that moves only the end gets a start equal to it. The 400 for an end before
the start is covered by tests/suite/insightly_face.rs.

A Redtail activity's linked contact and a Pipedrive activity's participant
must be a contact of the caller's organisation (a schema cannot say which
numbers exist), so generated valid ones are sent as the seed's contact 1
(an Insightly link likewise, to contact 1);
a Redtail activity must not end before it starts, so its two dates are
ordered as an Insightly event's are. Unknown contacts and reversed dates
get their CRM's 4xx in tests/suite/redtail_face_errors.rs and
tests/suite/pipedrive_face_errors.rs.
"""

from datetime import datetime, timezone

import re
import uuid

import schemathesis

# openapi.json's IdempotencyKey pattern, with \Z: Python's $ would also
# accept a trailing newline.
VALID_KEY = re.compile(r"^[!-~]([ -~]*[!-~])?\Z")


SEEDED_CONTACT = "contact-1"


@schemathesis.hook
def before_call(context, case, kwargs):
    for body in (case.body, kwargs.get("json")):
        if isinstance(body, dict) and "/insightly/" in str(case.path):
            order_event_dates(body)
            link_seeded_contact(body)
        if isinstance(body, dict) and "/redtail/" in str(case.path):
            seed_linked(body, "linked_contacts", "contact_id")
            order_dates(body, "start_date", "end_date")
        if isinstance(body, dict) and "/pipedrive/" in str(case.path):
            seed_linked(body, "participants", "person_id")
        if isinstance(body, dict):
            contact_id = body.get("contact_id")
            if isinstance(contact_id, int) and not isinstance(contact_id, bool):
                body["contact_id"] = SEEDED_CONTACT
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"


def event_date(text):
    """A date as the Insightly face reads it, or None."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def order_event_dates(body):
    start, end = event_date(body.get("START_DATE_UTC")), event_date(body.get("END_DATE_UTC"))
    if end is None:
        return
    if start is None and "EVENT_ID" in body and "START_DATE_UTC" not in body:
        body["START_DATE_UTC"] = body["END_DATE_UTC"]
    elif start is not None and end < start:
        body["START_DATE_UTC"], body["END_DATE_UTC"] = body["END_DATE_UTC"], body["START_DATE_UTC"]


def seed_linked(body, list_field, id_field):
    """Every generated valid id in body[list_field][][id_field] becomes the
    seed's contact number 1, kept as the type generated."""
    items = body.get(list_field)
    if not isinstance(items, list):
        return
    for item in items:
        if isinstance(item, dict):
            value = item.get(id_field)
            if isinstance(value, int) and not isinstance(value, bool):
                item[id_field] = 1
            elif isinstance(value, str) and value.isdigit():
                item[id_field] = "1"


def order_dates(body, start_field, end_field):
    start, end = event_date(body.get(start_field)), event_date(body.get(end_field))
    if start is not None and end is not None and end < start:
        body[start_field], body[end_field] = body[end_field], body[start_field]


def link_seeded_contact(body):
    """An Insightly link to a generated number names the seed's contact 1."""
    value = body.get("LINK_OBJECT_ID")
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(body.get("LINK_OBJECT_NAME"), str):
        body["LINK_OBJECT_ID"] = 1
        body["LINK_OBJECT_NAME"] = "contact"
