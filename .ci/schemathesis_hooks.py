"""Schemathesis hooks for .ci/run (loaded through SCHEMATHESIS_HOOKS).

Generated Idempotency-Key values repeat a lot (short strings such as "0"),
and a repeat is, correctly, answered with the first request's answer: 201
and the activity it created, even if a later step has deleted it since, or
422 when the body differs. Stateful checks then take the replayed 201 for a
fresh activity and report it missing. So every valid generated key is made
unique before it is sent; invalid ones are left alone, so that negative
tests still send them. Replays and 422 are covered by tests/suite/openapi.rs and
tests/suite/api.rs.
"""

import re
import uuid

import schemathesis

# openapi.json's IdempotencyKey pattern, with \Z: Python's $ would also
# accept a trailing newline.
VALID_KEY = re.compile(r"^[!-~]([ -~]*[!-~])?\Z")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"
