//! The owner's members import (a job) and export over HTTP, on every backend: a good file,
//! a broken one (nothing imported, the row errors), Windows-1251 with `;`, the export
//! read back by a second server, authentication and hostile bodies.

mod import_support;
mod owner_support;
mod support;

use encoding_rs::WINDOWS_1251;
use import_support::counts;
use owner_support::*;
use serde_json::Value;
use support::*;

backend_tests!(
    a_good_file_is_imported_by_a_job,
    a_broken_file_imports_nothing_and_lists_the_row_errors,
    windows_1251_with_semicolons_and_the_export_round_trip,
    import_and_export_need_the_owner_token_and_refuse_hostile_input,
);

const GOOD: &str = "\
Карта;Телефон;Имя;Email;Дата рождения;Согласие;Канал;Баллы;Теги;Семейные карты
4006381333931;8 916 123-45-67;Анна Иванова;anna@example.com;07.03.1990;да;sms;1 500;vip;2000000000022
;+7 (916) 222-33-44;Борис Петров;;1985-12-01;нет;;0;;
;8 916 333 44 55;Вера Сидорова;vera@mail.ru;;1;email;250;кофе, чай;
";

/// POSTs `body` to the import (with `query`): status and answer.
async fn post_file(
    s: &TestServer,
    token: Option<&str>,
    query: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = s
        .client
        .post(s.url(&format!("/api/v1/members/import{query}")))
        .header("content-type", "text/csv")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status().as_u16();
    (st, resp.json().await.unwrap_or(Value::Null))
}

/// Starts an import and waits until it is done or failed: the finished job.
async fn import(s: &TestServer, token: &str, query: &str, body: impl Into<Vec<u8>>) -> Value {
    let (st, job) = post_file(s, Some(token), query, body.into()).await;
    assert_eq!(st, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let job = get_json(s, token, &format!("/api/v1/members/import/{id}")).await;
        match job["phase"].as_str().unwrap() {
            "done" | "failed" => return job,
            "queued" | "validating" | "checking" | "importing" => {}
            other => panic!("phase {other}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import job did not finish")
}

async fn export(s: &TestServer, token: &str, query: &str) -> (String, Vec<u8>) {
    let resp = s
        .client
        .get(s.url(&format!("/api/v1/members/export{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    (ct, resp.bytes().await.unwrap().to_vec())
}

async fn a_good_file_is_imported_by_a_job(db: Db) {
    let s = start(db).await;
    let owner = owner_token(&s).await;
    let job = import(&s, &owner, "", GOOD).await;
    assert_eq!(job["phase"], "done", "{job}");
    let r = &job["report"];
    assert_eq!(r["status"], "imported", "{job}");
    assert_eq!(
        (r["imported"].as_u64(), r["rows"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (r["encoding"].as_str(), r["delimiter"].as_str()),
        (Some("utf-8"), Some(";"))
    );
    assert_eq!(r["errors_total"], 0);
    assert_eq!(counts(&s).await, (3, 3, 4, 6));
    // The same file again changes nothing.
    let again = import(&s, &owner, "", GOOD).await;
    assert_eq!(again["report"]["status"], "already_imported", "{again}");
    assert_eq!(counts(&s).await, (3, 3, 4, 6));
    s.stop().await;
}

async fn a_broken_file_imports_nothing_and_lists_the_row_errors(db: Db) {
    let s = start(db).await;
    let owner = owner_token(&s).await;
    let text = "card,phone,name,points\n\
        ,8 916 100-00-01,Ann,10\n\
        4006381333932,8 916 100-00-02,Bob,5\n\
        ,8 916 10,Cid,1\n\
        ,8 916 100-00-04,Dan,-3\n";
    let job = import(&s, &owner, "?delimiter=,", text).await;
    let r = &job["report"];
    assert_eq!(r["status"], "invalid", "{job}");
    assert_eq!(r["imported"], 0);
    let got: Vec<(u64, &str, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (3, "card", "CARD_BAD_CHECK_DIGIT"),
            (4, "phone", "PHONE_INVALID"),
            (5, "points", "POINTS_NEGATIVE"),
        ]
    );
    assert_eq!(r["errors_total"], 3);
    assert!(r["errors"][1]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(counts(&s).await, (0, 0, 0, 0), "nothing imported");
    // Fixed, it imports.
    let fixed = text
        .replace("4006381333932", "4006381333931")
        .replace("8 916 10,", "8 916 100-00-03,")
        .replace("-3", "3");
    let job = import(&s, &owner, "", fixed).await;
    assert_eq!(job["report"]["imported"], 4, "{job}");
    s.stop().await;
}

async fn windows_1251_with_semicolons_and_the_export_round_trip(db: Db) {
    let s = start(db.clone()).await;
    let owner = owner_token(&s).await;
    let (cp, _, _) = WINDOWS_1251.encode(GOOD);
    let job = import(
        &s,
        &owner,
        "?encoding=windows-1251&delimiter=%3B",
        cp.into_owned(),
    )
    .await;
    let r = &job["report"];
    assert_eq!(
        (r["status"].as_str(), r["imported"].as_u64()),
        (Some("imported"), Some(3)),
        "{job}"
    );
    assert_eq!(r["encoding"], "windows-1251");

    // UTF-8 export (with a BOM), every member with the imported values.
    let (ct, utf8) = export(&s, &owner, "").await;
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(utf8.starts_with("\u{feff}card;family_cards;phone;".as_bytes()));
    let text = String::from_utf8(utf8.clone()).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("4006381333931;2000000000022;+79161234567;Анна Иванова;anna@example.com;1990-03-07;yes;sms;1500;"), "{text}");
    // Windows-1251 with commas.
    let (ct, cp) = export(&s, &owner, "?encoding=windows-1251&delimiter=,").await;
    assert_eq!(ct, "text/csv; charset=windows-1251");
    let (decoded, _, bad) = WINDOWS_1251.decode(&cp);
    assert!(!bad);
    assert!(decoded.starts_with("card,family_cards,phone,"), "{decoded}");
    assert!(decoded.contains("Вера Сидорова"));
    assert_eq!(decoded.lines().count(), 4);
    s.stop().await;

    // Another server imports the export: the same members, the same export.
    let other = start(db).await;
    let owner2 = owner_token(&other).await;
    let job = import(&other, &owner2, "", utf8.clone()).await;
    assert_eq!(job["report"]["imported"], 3, "{job}");
    let (_, again) = export(&other, &owner2, "").await;
    let strip = |b: &[u8]| -> Vec<String> {
        // enrolled_at (the last column) is the import's time.
        let mut rows: Vec<String> = String::from_utf8(b.to_vec())
            .unwrap()
            .lines()
            .map(|l| {
                l.rsplit_once(';')
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default()
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(strip(&again), strip(&utf8));
    other.stop().await;
}

async fn import_and_export_need_the_owner_token_and_refuse_hostile_input(db: Db) {
    let s = start_with(db, |c| c.auth_failures_per_minute = 50).await;
    let till = s.till("Main").await;
    let owner = owner_token(&s).await;
    for token in [None, Some("lok_wrong"), Some(till.token.as_str())] {
        let (st, body) = post_file(&s, token, "", GOOD.into()).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{token:?}"
        );
        for p in ["/api/v1/members/export", "/api/v1/members/import/abc"] {
            assert_eq!(get_as(&s, token, p).await.0, 401, "{p} {token:?}");
        }
    }
    assert_eq!(counts(&s).await.0, 0);
    // Bad queries and bodies: 4xx, nothing started.
    for (query, body, status, code) in [
        ("", Vec::new(), 400, "IMPORT_EMPTY"),
        ("?encoding=koi8-r", GOOD.into(), 400, "BAD_QUERY"),
        ("?delimiter=%7C", GOOD.into(), 400, "BAD_QUERY"),
        ("?region=XX", GOOD.into(), 400, "BAD_QUERY"),
        ("?bogus=1", GOOD.into(), 400, "BAD_QUERY"),
    ] {
        let (st, answer) = post_file(&s, Some(&owner), query, body).await;
        assert_eq!(
            (st, answer["code"].as_str()),
            (status, Some(code)),
            "{query}: {answer}"
        );
    }
    let too_big = vec![b'a'; loyalty_wire::MEMBERS_IMPORT_MAX_BYTES + 1];
    let (st, answer) = post_file(&s, Some(&owner), "", too_big).await;
    assert_eq!((st, answer["code"].as_str()), (413, Some("BODY_TOO_LARGE")));
    for p in [
        "/api/v1/members/export?encoding=utf-16",
        "/api/v1/members/export?delimiter=x",
    ] {
        assert_eq!(get_as(&s, Some(&owner), p).await.0, 400, "{p}");
    }
    let (st, body) = get_as(&s, Some(&owner), "/api/v1/members/import/nope").await;
    assert_eq!(st, 404, "{body}");
    // Garbage that is a file: the job fails or reports errors, never imports, never 5xx.
    let utf16 = import(&s, &owner, "", b"\xFF\xFEp\0h\0".to_vec()).await;
    assert_eq!(
        (utf16["phase"].as_str(), utf16["failure"]["code"].as_str()),
        (Some("failed"), Some("IMPORT_ENCODING")),
        "{utf16}"
    );
    for junk in [
        b"\0\0\0".to_vec(),
        b"\n\n\n".to_vec(),
        b"\"unterminated;x\n1;2".to_vec(),
        (0..=255u8).cycle().take(100_000).collect(),
        // Over the tills' 8 MiB body limit, under the import's 64 MiB.
        vec![b'x'; 10 << 20],
    ] {
        let job = import(&s, &owner, "", junk).await;
        assert!(
            job["phase"] == "failed" || job["report"]["status"] == "invalid",
            "{job}"
        );
    }
    assert_eq!(counts(&s).await, (0, 0, 0, 0));
    s.stop().await;
}
