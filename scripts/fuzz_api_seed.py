"""Waits for the server of scripts/fuzz-api.sh and gives it one customer (card
2000100000014, the card of the OpenAPI examples, 1000 points), so reservations and voids
reach their success paths: python3 fuzz_api_seed.py BASE_URL TOKEN TILL_ID."""

import json
import sys
import time
import urllib.request

base, token, till_id = sys.argv[1:4]

for _ in range(300):
    try:
        with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    time.sleep(0.2)
else:
    sys.exit("fuzz-api: the server did not answer /api/v1/health within a minute")

enrol = {
    "type": "enrol",
    "customer_uid": "0190a000-0000-7000-8000-0000000000c1",
    "account_uid": "0190a000-0000-7000-8000-0000000000a1",
    "card": "2000100000014",
    "profile": {"name": "Fuzz", "phone": "+79161234567"},
    "welcome_points": 1000,
}
body = {
    "till_id": till_id,
    "events": [{
        "seq": 1,
        "op_id": "0190a000-0000-7000-8000-0000000000e1",
        "recorded_at": "2025-01-01T00:00:00Z",
        "fact": enrol,
    }],
}
req = urllib.request.Request(
    base + "/api/v1/events",
    data=json.dumps(body).encode(),
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(req, timeout=30) as r:
    answer = json.load(r)
if answer.get("applied_upto") != 1 or answer.get("conflicts"):
    sys.exit(f"fuzz-api: seeding the customer failed: {answer}")
