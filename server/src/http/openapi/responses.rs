//! Answers the handlers' annotations leave out because they come from layers every endpoint
//! shares: the bearer-token middleware (401, and 429 once an address has sent too many
//! wrong tokens within a minute), the JSON body extractor (400, 413, 415) and a busy
//! database (503). Also gives every answer a description.

use serde_json::{json, Map, Value};

/// The answers of every operation that needs a device token.
const AUTHENTICATED: [&str; 3] = ["401", "429", "503"];
/// The answers of every operation with a JSON body.
const JSON_BODY: [&str; 3] = ["400", "413", "415"];

fn description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "400" => "Malformed request: bad JSON or query, wrong shape or unknown field, bad value (`BAD_JSON`, `INVALID_BODY`, `BAD_QUERY`, `BAD_ID`, `INVALID_POINTS`, `BATCH_TOO_LARGE`)",
        "401" => "Missing, unknown or revoked device token (`UNAUTHORIZED`, `TILL_REVOKED`)",
        "403" => "The token's till may not do this (`FORBIDDEN_TILL`, `RESERVATION_FORBIDDEN`)",
        "404" => "No such card or reservation (`CARD_NOT_FOUND`, `RESERVATION_NOT_FOUND`)",
        "409" => "Conflicts with the current state (`INSUFFICIENT_POINTS`, `CARD_BLOCKED`, `OP_CONFLICT`, `RESERVATION_CONSUMED`)",
        "413" => "Body over the server's `body_limit_bytes` (`BODY_TOO_LARGE`)",
        "415" => "No `Content-Type: application/json` (`UNSUPPORTED_MEDIA_TYPE`)",
        "429" => "Too many failed authentications from this client address within a minute (`TOO_MANY_AUTH_FAILURES`, with `Retry-After`); a valid token always passes",
        "503" => "The database is busy or unavailable: retry later (`DB_BUSY`, `DB_UNAVAILABLE`)",
        _ => "See the `code` of the body",
    }
}

fn error_answer(status: &str) -> Value {
    let mut answer = json!({
        "description": description(status),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}},
    });
    if status == "429" {
        answer["headers"] = json!({"Retry-After": {
            "description": "Seconds until the address may try again",
            "required": true,
            "schema": {"type": "integer", "minimum": 0},
        }});
    }
    answer
}

fn needs_token(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|s| !s.is_empty())
}

fn has_json_body(op: &Value) -> bool {
    op["requestBody"]["content"]["application/json"].is_object()
}

/// Adds the shared answers to every operation of `doc` and describes every answer.
pub fn install(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            let mut extra: Vec<&str> = Vec::new();
            if needs_token(op) {
                extra.extend(AUTHENTICATED);
            }
            if has_json_body(op) {
                extra.extend(JSON_BODY);
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for status in extra {
                responses
                    .entry(status)
                    .or_insert_with(|| error_answer(status));
            }
            describe(responses);
        }
    }
}

fn describe(responses: &mut Map<String, Value>) {
    for (status, answer) in responses.iter_mut() {
        if !matches!(answer["description"].as_str(), Some(d) if !d.is_empty()) {
            answer["description"] = Value::from(description(status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::document;

    #[test]
    fn authenticated_and_json_body_operations_list_the_shared_answers() {
        let paths = document()["paths"].as_object().expect("paths");
        let mut authed = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("item") {
                let responses = op["responses"].as_object().expect("responses");
                if super::needs_token(op) {
                    authed += 1;
                    for s in super::AUTHENTICATED {
                        assert!(responses.contains_key(s), "{method} {path}: {s}");
                    }
                }
                if super::has_json_body(op) {
                    for s in super::JSON_BODY {
                        assert!(responses.contains_key(s), "{method} {path}: {s}");
                    }
                }
                for (s, a) in responses {
                    assert!(
                        a["description"].as_str().is_some_and(|d| !d.is_empty()),
                        "{method} {path} {s} described"
                    );
                }
            }
        }
        assert!(authed >= 6, "the till endpoints need a token");
        let health = &paths["/api/v1/health"]["get"]["responses"];
        assert!(health.get("401").is_none(), "health needs no token");
    }
}
