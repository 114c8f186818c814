//! The JSON schema of `loyalty_domain::Fact` (the `fact` of an uploaded event) and of the
//! domain types inside it. The domain crate does not depend on utoipa, so the schema is
//! written here; the tests below hold it to serde's real behaviour (every required field
//! is required, every optional one optional, nothing missing), so it cannot drift.

use serde_json::{json, Map, Value};

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn string() -> Value {
    json!({"type": "string"})
}

fn opt_string() -> Value {
    json!({"type": ["string", "null"]})
}

/// `i64` (money in minor units, points).
fn int64() -> Value {
    json!({"type": "integer", "format": "int64"})
}

fn uint32() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX})
}

fn opt_uint32() -> Value {
    json!({"type": ["integer", "null"], "format": "int64", "minimum": 0, "maximum": u32::MAX})
}

fn object(
    description: &str,
    required: &[(&str, Value)],
    optional: &[(&str, Value)],
    extra: Option<Value>,
) -> Value {
    let mut props = Map::new();
    for (k, v) in required.iter().chain(optional) {
        props.insert((*k).to_string(), v.clone());
    }
    let mut o = json!({
        "type": "object",
        "description": description,
        "required": required.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        "properties": props,
    });
    if let Some(extra) = extra {
        o["additionalProperties"] = extra;
    }
    o
}

/// One variant of the internally tagged enum: `type` is the tag.
fn variant(tag: &str, description: &str, fields: &[(&str, Value)], opt: &[(&str, Value)]) -> Value {
    let mut required = vec![("type", json!({"type": "string", "enum": [tag]}))];
    required.extend(fields.iter().cloned());
    let mut v = object(description, &required, opt, None);
    v["title"] = Value::from(tag);
    v
}

fn fact() -> Value {
    let expiry = ("expiry_months", opt_uint32());
    let variants = vec![
        variant(
            "enrol",
            "A new customer with a new account and a primary card; the welcome bonus.",
            &[
                ("customer_uid", string()),
                ("account_uid", string()),
                ("card", string()),
                ("profile", r("Profile")),
                ("welcome_points", int64()),
            ],
            &[("referrer_uid", opt_string()), expiry.clone()],
        ),
        variant(
            "sale",
            "A purchase: what it spent and earned (the till's quote), and the counters after it.",
            &[
                ("receipt_no", string()),
                ("card", string()),
                ("account_uid", string()),
                ("program_version", uint32()),
                ("lines", json!({"type": "array", "items": r("BasketLine")})),
                ("subtotal", int64()),
                ("discount_total", int64()),
                ("after_discounts", int64()),
                ("points_spent", int64()),
                ("to_pay", int64()),
                ("earn", json!({"type": "array", "items": r("EarnItem")})),
                ("hold_days", uint32()),
                ("stamps_after", uint32()),
                ("offline", json!({"type": "boolean"})),
            ],
            &[
                (
                    "referrer",
                    json!({
                        "description": "`[referrer account uid, points]`",
                        "oneOf": [
                            {"type": "null"},
                            {"type": "array", "prefixItems": [string(), int64()],
                             "items": false, "minItems": 2, "maxItems": 2},
                        ],
                    }),
                ),
                expiry.clone(),
                (
                    "birthday_bonus_year",
                    json!({"type": ["integer", "null"], "format": "int32"}),
                ),
                ("reservation_id", opt_string()),
            ],
        ),
        variant(
            "return",
            "A (partial) return of the sale `sale_op_id`.",
            &[
                ("receipt_no", string()),
                ("sale_op_id", string()),
                ("account_uid", string()),
                ("amount", int64()),
                ("refund", int64()),
                ("earned_taken", int64()),
                ("spent_restored", int64()),
            ],
            &[
                expiry.clone(),
                ("spend_returned", int64()),
                ("fully_returned", json!({"type": "boolean"})),
            ],
        ),
        variant(
            "adjust",
            "An owner's manual correction (non-zero, ±).",
            &[
                ("account_uid", string()),
                ("points", int64()),
                ("reason", string()),
                ("author", string()),
            ],
            &[expiry],
        ),
        variant(
            "card_block",
            "A lost card blocked and a new one issued on the same account.",
            &[
                ("account_uid", string()),
                ("old_card", string()),
                ("new_card", string()),
            ],
            &[],
        ),
        variant(
            "family_card",
            "An extra card on the same account.",
            &[("account_uid", string()), ("card", string())],
            &[],
        ),
    ];
    json!({
        "description": "What happened at a till (`loyalty_domain::Fact`), tagged by `type`. \
            A fact the server cannot apply (unknown account, invalid amounts, ...) is not an \
            HTTP error: it is listed in the answer's `conflicts`.",
        "oneOf": variants,
    })
}

fn profile() -> Value {
    object(
        "The customer's profile at enrolment (`loyalty_domain::Profile`); every field may be left out.",
        &[],
        &[
            ("name", string()),
            ("phone", json!({"type": ["string", "null"], "description": "E.164"})),
            ("email", opt_string()),
            (
                "birthday",
                json!({"oneOf": [{"type": "null"}, {"type": "string", "format": "date"}]}),
            ),
            ("gender", opt_string()),
            ("age_group", opt_string()),
            ("home_store", opt_string()),
            (
                "preferred_channel",
                json!({"type": "string", "description": "\"sms\" | \"email\" | \"messenger\" | \"none\""}),
            ),
            ("marketing_consent", json!({"type": "boolean"})),
            ("tags", json!({"type": "array", "items": string()})),
        ],
        None,
    )
}

fn basket_line() -> Value {
    object(
        "One line of the check; `amount` is the line total in minor units.",
        &[("sku", string()), ("qty", int64()), ("amount", int64())],
        &[("category", opt_string())],
        None,
    )
}

fn earn_item() -> Value {
    object(
        "Points a sale earns, with the reason.",
        &[
            ("kind", r("EarnKind")),
            ("reason", string()),
            ("points", int64()),
        ],
        &[],
        None,
    )
}

fn earn_kind() -> Value {
    json!({"type": "string", "enum": [
        "purchase", "threshold", "stamp", "birthday", "referral_referee", "referral_referrer"
    ]})
}

/// The schemas of this module by name.
fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Fact", fact()),
        ("Profile", profile()),
        ("BasketLine", basket_line()),
        ("EarnItem", earn_item()),
        ("EarnKind", earn_kind()),
    ]
}

/// Adds the schemas and points `EventEnvelope.fact` at `Fact`.
pub fn install(doc: &mut Value) {
    let Some(all) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, schema) in schemas() {
        all.insert(name.to_string(), schema);
    }
    if let Some(fact) = doc.pointer_mut("/components/schemas/EventEnvelope/properties/fact") {
        let description = fact["description"].clone();
        *fact = r("Fact");
        fact["description"] = description;
    }
}

#[cfg(test)]
mod tests;
