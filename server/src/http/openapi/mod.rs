//! The OpenAPI document (`GET /api/openapi.json`): what utoipa derives from the handlers
//! and the wire types, completed where a derive cannot be precise ([`fact`]: the facts a
//! till uploads; [`responses`]: the answers every authenticated or JSON-body endpoint can
//! give). Built once; `scripts/fuzz-api.sh` fuzzes the live server against it.

mod fact;
mod responses;

use super::{handlers, members, owner};
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Loyalty server", description = "Till <-> server sync protocol (docs/design/sync.md) and the owner's back-office (docs/design/owner.md)"),
    paths(
        handlers::health,
        handlers::get_me,
        handlers::post_events,
        handlers::get_changes,
        handlers::get_snapshot,
        handlers::post_reservation,
        handlers::void_reservation,
        owner::post_nps,
        owner::post_anonymous_sales,
        owner::get_dashboard,
        owner::get_triggers,
        owner::get_program,
        owner::post_program,
        owner::post_merge,
        owner::get_tills,
        owner::post_till,
        owner::revoke_till,
        members::post_import,
        members::get_import,
        members::get_export,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The till's device token (`loyalty-server till add` prints it once).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "owner",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The owner token (`loyalty-server owner token` prints it once).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The complete document as JSON.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            Value::Null
        });
        fact::install(&mut doc);
        responses::install(&mut doc);
        members_details(&mut doc);
        doc
    })
}

/// The members import's body is the file's raw bytes (a derive would say an array); the
/// encoding and delimiter options are enumerations (the wire type keeps them strings so a
/// wrong one gets a clear 400).
fn members_details(doc: &mut Value) {
    let import = &mut doc["paths"]["/api/v1/members/import"]["post"];
    if let Some(media) = import["requestBody"]["content"].get_mut("application/octet-stream") {
        media["schema"] = serde_json::json!({"type": "string", "format": "binary"});
    }
    let choices = [
        (
            "post",
            "/api/v1/members/import",
            "encoding",
            &["auto", "utf-8", "windows-1251"][..],
        ),
        (
            "post",
            "/api/v1/members/import",
            "delimiter",
            &["auto", ";", ",", "tab"][..],
        ),
        (
            "get",
            "/api/v1/members/export",
            "encoding",
            &["utf-8", "windows-1251"][..],
        ),
        (
            "get",
            "/api/v1/members/export",
            "delimiter",
            &[";", ",", "tab"][..],
        ),
    ];
    for (method, path, name, values) in choices {
        if let Some(params) = doc["paths"][path][method]["parameters"].as_array_mut() {
            for p in params.iter_mut().filter(|p| p["name"] == name) {
                p["schema"] = serde_json::json!({"type": "string", "enum": values});
            }
        }
    }
}

pub async fn openapi_json() -> axum::Json<&'static Value> {
    axum::Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of the document names a schema it defines.
    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut refs = Vec::new();
        collect_refs(doc, &mut refs);
        assert!(refs.len() > 20, "{refs:?}");
        for r in refs {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(schemas.contains_key(name), "dangling $ref {r}");
        }
    }

    /// The owner's endpoints are documented behind the owner token; bounds fuzzers rely on.
    #[test]
    fn owner_endpoints_and_bounds_are_documented() {
        let doc = document();
        for (path, method) in [
            ("/api/v1/dashboard", "get"),
            ("/api/v1/triggers", "get"),
            ("/api/v1/program", "post"),
            ("/api/v1/tills", "post"),
            ("/api/v1/tills/{id}/revoke", "post"),
            ("/api/v1/members/import", "post"),
            ("/api/v1/members/import/{id}", "get"),
            ("/api/v1/members/export", "get"),
        ] {
            let op = &doc["paths"][path][method];
            assert_eq!(op["security"][0]["owner"], serde_json::json!([]), "{path}");
        }
        let body = &doc["paths"]["/api/v1/members/import"]["post"]["requestBody"]["content"];
        assert_eq!(
            body["application/octet-stream"]["schema"],
            serde_json::json!({"type": "string", "format": "binary"})
        );
        let export = &doc["paths"]["/api/v1/members/export"]["get"]["parameters"];
        assert_eq!(export[0]["schema"]["enum"][1], "windows-1251", "{export}");
        let sale = &doc["components"]["schemas"]["AnonymousSale"]["properties"]["amount"];
        assert_eq!(sale["minimum"], 0, "{sale}");
        let nps = &doc["components"]["schemas"]["NpsRequest"]["properties"]["score"];
        assert_eq!(
            (nps["minimum"].as_i64(), nps["maximum"].as_i64()),
            (Some(0), Some(10))
        );
    }

    fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(s)) => out.push(s),
                        _ => collect_refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
