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


EVENT_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))?\Z"
)


def event_date(text):
    """A date as the Insightly face reads it, as a number that orders dates
    (seconds on a calendar of 31-day months, which keeps their order), or
    None. Year 0 is valid here, so Python's datetime cannot be used."""
    match = EVENT_DATE.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = float(match.group(7) or 0)
    offset = 0
    if match.group(9):
        offset = (int(match.group(10)) * 60 + int(match.group(11))) * 60
        offset = offset if match.group(9) == "+" else -offset
    days = (year * 12 + month) * 31 + day
    return days * 86400 + hour * 3600 + minute * 60 + second + fraction - offset


def order_event_dates(body):
    """Makes a generated event end no earlier than it starts: the two
    swapped when both are there, and a PUT that moves one end only moved
    together with the other."""
    start, end = event_date(body.get("START_DATE_UTC")), event_date(body.get("END_DATE_UTC"))
    if "EVENT_ID" in body:
        if end is not None and "START_DATE_UTC" not in body:
            body["START_DATE_UTC"] = body["END_DATE_UTC"]
            return
        if start is not None and "END_DATE_UTC" not in body:
            body["END_DATE_UTC"] = body["START_DATE_UTC"]
            return
    if start is not None and end is not None and end < start:
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
