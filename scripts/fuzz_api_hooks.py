"""Schemathesis checks of scripts/fuzz-api.sh (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def token_required(ctx, response, case):
    """Without a valid device token, an operation that needs one answers 401, or 429 once
    the client address has sent too many wrong tokens within a minute (as documented)."""
    op = case.operation
    # The coverage phase also sends undocumented methods: 405 before any authentication.
    if not op.definition.raw.get("security") or case.method.upper() != op.method.upper():
        return None
    if response.status_code not in (401, 429):
        raise AssertionError(
            f"expected 401 or 429 without a valid token, got {response.status_code}"
        )
    return None
