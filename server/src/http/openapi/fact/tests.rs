//! The hand-written schemas agree with serde: a value with exactly the required fields
//! reads, one without any of them does not, a value with every field reads and writes back
//! exactly the documented fields, and the integer bounds are the Rust types' bounds.

use super::schemas;
use loyalty_domain::{BasketLine, EarnItem, EarnKind, Fact, Profile};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

fn lookup(name: &str) -> Value {
    schemas()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no schema {name}"))
}

fn resolve(schema: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(r) => lookup(r.trim_start_matches("#/components/schemas/")),
        None => schema.clone(),
    }
}

/// A value of `schema`: with `full`, every optional field and a non-null value wherever
/// null is allowed; without, only required fields and null where allowed.
fn example(schema: &Value, full: bool) -> Value {
    let s = resolve(schema);
    if let Some(alts) = s["oneOf"].as_array() {
        let nullable = alts.iter().any(|a| a["type"] == "null");
        if nullable && !full {
            return Value::Null;
        }
        let pick = alts
            .iter()
            .find(|a| a["type"] != "null")
            .expect("an alternative");
        return example(pick, full);
    }
    if let Some(e) = s["enum"].as_array() {
        return e[0].clone();
    }
    let ty = match &s["type"] {
        Value::Array(types) if !full => return Value::Null,
        Value::Array(types) => types.iter().find(|t| *t != "null").expect("a type").clone(),
        t => t.clone(),
    };
    match ty.as_str().expect("type") {
        "string" if s["format"] == "date" => json!("2001-02-03"),
        "string" => json!("x"),
        "integer" => json!(1),
        "boolean" => json!(true),
        "array" => match s["prefixItems"].as_array() {
            Some(items) => items.iter().map(|i| example(i, full)).collect(),
            None if full => json!([example(&s["items"], full)]),
            None => json!([]),
        },
        "object" => {
            let required = required(&s);
            let mut o = Map::new();
            for (k, v) in s["properties"].as_object().expect("properties") {
                if full || required.contains(k) {
                    o.insert(k.clone(), example(v, full));
                }
            }
            Value::Object(o)
        }
        other => panic!("type {other}"),
    }
}

fn required(s: &Value) -> Vec<String> {
    s["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|k| k.as_str().expect("name").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn property_names(s: &Value) -> Vec<String> {
    let mut names: Vec<String> = s["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// Holds an object schema to the type `T`.
fn agrees<T: DeserializeOwned + Serialize>(what: &str, s: &Value) {
    let minimal = example(s, false);
    serde_json::from_value::<T>(minimal.clone())
        .unwrap_or_else(|e| panic!("{what}: the required fields alone read: {e}\n{minimal}"));
    for k in required(s) {
        let mut v = minimal.clone();
        v.as_object_mut().expect("object").remove(&k);
        assert!(
            serde_json::from_value::<T>(v).is_err(),
            "{what}: `{k}` is documented as required but serde accepts it missing"
        );
    }
    let full = example(s, true);
    let back = serde_json::to_value(
        serde_json::from_value::<T>(full.clone())
            .unwrap_or_else(|e| panic!("{what}: every field reads: {e}\n{full}")),
    )
    .expect("write");
    let mut written: Vec<String> = back.as_object().expect("object").keys().cloned().collect();
    written.sort();
    assert_eq!(
        written,
        property_names(s),
        "{what}: documented fields = serde's fields"
    );
}

#[test]
fn every_fact_variant_agrees_with_serde() {
    let fact = lookup("Fact");
    let variants = fact["oneOf"].as_array().expect("variants");
    assert_eq!(variants.len(), 6);
    for v in variants {
        let tag = v["properties"]["type"]["enum"][0].as_str().expect("tag");
        agrees::<Fact>(tag, v);
        let f: Fact = serde_json::from_value(example(v, false)).expect("reads");
        assert_eq!(f.kind(), tag);
    }
}

#[test]
fn the_types_inside_facts_agree_with_serde() {
    agrees::<Profile>("Profile", &lookup("Profile"));
    agrees::<BasketLine>("BasketLine", &lookup("BasketLine"));
    agrees::<EarnItem>("EarnItem", &lookup("EarnItem"));
    for k in lookup("EarnKind")["enum"].as_array().expect("kinds") {
        serde_json::from_value::<EarnKind>(k.clone()).unwrap_or_else(|e| panic!("{k}: {e}"));
    }
    assert!(serde_json::from_value::<EarnKind>(json!("nope")).is_err());
}

#[test]
fn integer_bounds_are_the_rust_types_bounds() {
    let sale = lookup("Fact")["oneOf"][1].clone();
    assert_eq!(sale["title"], "sale");
    let base = example(&sale, false);
    let max = sale["properties"]["program_version"]["maximum"].clone();
    let with = |field: &str, v: Value| {
        let mut f = base.clone();
        f[field] = v;
        serde_json::from_value::<Fact>(f)
    };
    assert!(with("program_version", max.clone()).is_ok());
    let over = json!(max.as_u64().expect("max") + 1);
    assert!(with("program_version", over).is_err());
    assert!(with("program_version", json!(-1)).is_err());
    assert!(with("subtotal", json!(i64::MIN)).is_ok());
    assert!(with("subtotal", json!(u64::MAX)).is_err());
}

#[test]
fn the_envelope_refers_to_the_fact_schema() {
    let doc = super::super::document();
    let fact = &doc["components"]["schemas"]["EventEnvelope"]["properties"]["fact"];
    assert_eq!(fact["$ref"], "#/components/schemas/Fact");
    assert!(doc["components"]["schemas"]["Fact"]["oneOf"].is_array());
}
