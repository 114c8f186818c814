//! The binary: `till add|list|revoke`, `migrate`, with only a data dir configured.

use std::process::Command;

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty-server"))
        .args(args)
        .env("LOYALTY_DATA_DIR", dir)
        .env_remove("LOYALTY_CONFIG")
        .env_remove("LOYALTY_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn till_lifecycle_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("0001 0001_init (applied now)"), "{out}");
    let (ok, out, _) = run(dir.path(), &["migrate"]);
    assert!(ok && out.contains("already applied"), "{out}");

    let (ok, out, err) = run(dir.path(), &["till", "add", "--store", "Main St"]);
    assert!(ok, "{err}");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap()
    };
    let (id, token) = (field("till_id:"), field("token:"));
    assert!(token.starts_with("ltk_"));
    assert!(dir.path().join("server.db").exists());
    let db = std::fs::read(dir.path().join("server.db")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("server.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token), "the token itself is never stored");
    }

    let (ok, out, _) = run(dir.path(), &["till", "list"]);
    assert!(ok && out.contains(&id) && out.contains("active"), "{out}");
    let (ok, _, _) = run(dir.path(), &["till", "revoke", &id]);
    assert!(ok);
    let (_, out, _) = run(dir.path(), &["till", "list"]);
    assert!(out.contains("revoked"), "{out}");
    let (ok, _, err) = run(dir.path(), &["till", "revoke", "nope"]);
    assert!(!ok && err.contains("TILL_NOT_FOUND"), "{err}");
    let (ok, _, err) = run(dir.path(), &["till", "add", "--store", "  "]);
    assert!(!ok && err.contains("USAGE"), "{err}");
}

#[test]
fn import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("members.csv");
    std::fs::write(
        &csv,
        "Телефон;Имя;Баллы\n89161234567;Анна;10\n8916;Борис;x\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let (ok, _, err) = run(&data, &["import", file, "--no-progress"]);
    assert!(!ok, "a bad file fails");
    assert!(err.contains("IMPORT_INVALID"), "{err}");
    assert!(
        err.contains("line 3, column Телефон: PHONE_INVALID"),
        "{err}"
    );
    assert!(
        err.contains("line 3, column Баллы: POINTS_INVALID"),
        "{err}"
    );
    let report = std::fs::read_to_string(dir.path().join("members.errors.csv")).unwrap();
    assert!(report.contains("3;Телефон;8916;PHONE_INVALID"), "{report}");

    std::fs::write(
        &csv,
        "Телефон;Имя;Баллы\n89161234567;Анна;10\n89161234568;Борис;0\n",
    )
    .unwrap();
    let (ok, out, err) = run(&data, &["import", file, "--dry-run"]);
    assert!(
        ok && out.contains("2 members would be imported"),
        "{out}{err}"
    );
    let (ok, out, err) = run(&data, &["import", file, "--store", "S1"]);
    assert!(ok && out.contains("imported 2 members"), "{out}{err}");
    let (ok, out, _) = run(&data, &["import", file]);
    assert!(ok && out.contains("already imported"), "{out}");
    let (ok, _, err) = run(&data, &["import", file, "--encoding", "koi8"]);
    assert!(!ok && err.contains("unknown encoding"), "{err}");

    let (ok, out, err) = run(&data, &["export", "--delimiter", ","]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("card,family_cards,phone,name,"));
    assert!(out.contains(",+79161234567,Анна,"), "{out}");
    let dest = dir.path().join("out.csv");
    let (ok, _, err) = run(
        &data,
        &[
            "export",
            "--out",
            dest.to_str().unwrap(),
            "--encoding",
            "windows-1251",
        ],
    );
    assert!(ok && err.contains("exported 2 members"), "{err}");
    let bytes = std::fs::read(&dest).unwrap();
    assert!(encoding_rs::WINDOWS_1251
        .decode(&bytes)
        .0
        .contains(";Борис;"));
}

#[test]
fn a_bad_config_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty-server"))
        .args(["migrate"])
        .env("LOYALTY_DATA_DIR", dir.path())
        .env("LOYALTY_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONFIG_ENV"));
}

/// The same lifecycle against PostgreSQL (a schema of its own) when
/// `LOYALTY_TEST_PG_URL` is set.
#[tokio::test]
async fn till_lifecycle_on_postgres() {
    let Ok(url) = std::env::var("LOYALTY_TEST_PG_URL") else {
        let line = "SKIPPED till_lifecycle_on_postgres: needs LOYALTY_TEST_PG_URL (make test-pg)\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        return;
    };
    let schema = format!("cli_{}", uuid::Uuid::now_v7().simple());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let db_url = format!("{url}?options=-c%20search_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let pg = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_loyalty-server"))
            .args(args)
            .env("LOYALTY_DATA_DIR", dir.path())
            .env("LOYALTY_DATABASE_URL", &db_url)
            .env_remove("LOYALTY_CONFIG")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = pg(&["migrate"]);
    assert!(
        ok && out.contains("0001 0001_init (applied now)"),
        "{out}{err}"
    );
    let (ok, out, _) = pg(&["migrate"]);
    assert!(ok && out.contains("already applied"), "{out}");
    let (ok, out, err) = pg(&["till", "add", "--store", "Main St"]);
    assert!(ok, "{err}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("till_id:"))
        .map(|v| v.trim().to_string())
        .unwrap();
    assert!(!dir.path().join("server.db").exists(), "no SQLite file");
    let (ok, out, _) = pg(&["till", "list"]);
    assert!(ok && out.contains(&id) && out.contains("active"), "{out}");
    assert!(pg(&["till", "revoke", &id]).0);
    assert!(pg(&["till", "list"]).1.contains("revoked"));
    let (ok, _, err) = pg(&["till", "revoke", "nope"]);
    assert!(!ok && err.contains("TILL_NOT_FOUND"), "{err}");
    let tokens = client
        .query_one(
            &format!("SELECT COUNT(*) FROM {schema}.tills WHERE token_hash LIKE 'ltk_%'"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(tokens.get::<_, i64>(0), 0, "only hashes are stored");
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
