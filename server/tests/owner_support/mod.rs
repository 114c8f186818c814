//! Helpers of the owner tests: an owner token, authenticated requests, a raw SQL hatch.
#![allow(dead_code)]

use crate::support::TestServer;
use chrono::Utc;
use loyalty_server::backend::analytics::{Stmt, Val};
use loyalty_server::token;
use serde_json::Value;

/// Makes and stores a new owner token.
pub async fn owner_token(s: &TestServer) -> String {
    let t = token::generate_owner().unwrap();
    loyalty_server::owner::set_owner_token(s.backend.as_ref(), &token::hash_token(&t), Utc::now())
        .await
        .unwrap();
    t
}

pub async fn get_as(s: &TestServer, token: Option<&str>, path: &str) -> (u16, String) {
    let mut req = s.client.get(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

pub async fn get_json(s: &TestServer, token: &str, path: &str) -> Value {
    let (st, body) = get_as(s, Some(token), path).await;
    assert_eq!(st, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

pub async fn post_as(s: &TestServer, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = s
        .client
        .post(s.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let st = resp.status().as_u16();
    (st, resp.json().await.unwrap_or(Value::Null))
}

/// One integer from SQL run on the test's backend.
pub async fn scalar(s: &TestServer, sql: &str, params: Vec<Val>) -> i64 {
    let rows = s.backend.query(vec![Stmt::new(sql, params)]).await.unwrap();
    rows[0].first().map(|r| r[0].int()).unwrap_or(0)
}

/// Runs SQL on the test's backend.
pub async fn exec(s: &TestServer, sql: &str) {
    s.backend
        .execute(vec![Stmt::new(sql, vec![])])
        .await
        .unwrap();
}
