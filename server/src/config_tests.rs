use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let p = dir.path().join("server.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn defaults_need_nothing() {
    let c = Config::load_with(None, &env_of(&[])).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.listen.port(), 8080);
    assert_eq!(c.body_limit_bytes, 8 * 1024 * 1024);
    assert_eq!(
        c.effective_database_url(),
        format!(
            "sqlite://{}",
            Path::new("server-data").join("server.db").display()
        )
    );
}

#[test]
fn file_overrides_defaults_and_env_overrides_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        r#"
listen = "127.0.0.1:9000"
data_dir = "/srv/loyalty"
auth_failures_per_minute = 3
log = "debug"
"#,
    );
    let c = Config::load_with(Some(&p), &env_of(&[])).unwrap();
    assert_eq!(c.listen, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(c.data_dir, PathBuf::from("/srv/loyalty"));
    assert_eq!(c.auth_failures_per_minute, 3);
    assert_eq!(c.log, "debug");
    assert_eq!(
        c.reservation_ttl_secs, 600,
        "untouched field keeps its default"
    );

    let env = env_of(&[
        ("LOYALTY_LISTEN", "127.0.0.1:9100"),
        ("LOYALTY_DATABASE_URL", "postgres://db/loyalty"),
    ]);
    let c = Config::load_with(Some(&p), &env).unwrap();
    assert_eq!(c.listen, "127.0.0.1:9100".parse().unwrap());
    assert_eq!(c.data_dir, PathBuf::from("/srv/loyalty"), "file value kept");
    assert_eq!(c.effective_database_url(), "postgres://db/loyalty");
}

#[test]
fn config_file_from_env_variable() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "data_dir = \"elsewhere\"\n");
    let env = env_of(&[("LOYALTY_CONFIG", p.to_str().unwrap())]);
    let c = Config::load_with(None, &env).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("elsewhere"));
}

#[test]
fn tls_from_file_and_env_layers() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "tls_cert = \"/etc/c.pem\"\n");
    let err = Config::load_with(Some(&p), &env_of(&[])).unwrap_err();
    assert_eq!(err.code(), "CONFIG_TLS_HALF");
    let c = Config::load_with(Some(&p), &env_of(&[("LOYALTY_TLS_KEY", "/etc/k.pem")])).unwrap();
    assert_eq!(
        c.tls,
        Some(TlsConfig {
            cert: "/etc/c.pem".into(),
            key: "/etc/k.pem".into()
        })
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "listen = \"127.0.0.1:9000\"\nlisen = 1\n");
    assert_eq!(
        Config::load_with(Some(&p), &env_of(&[]))
            .unwrap_err()
            .code(),
        "CONFIG_PARSE"
    );
    let p = write(&dir, "listen = \"not an address\"\n");
    assert_eq!(
        Config::load_with(Some(&p), &env_of(&[]))
            .unwrap_err()
            .code(),
        "CONFIG_PARSE"
    );
    let missing = dir.path().join("missing.toml");
    assert_eq!(
        Config::load_with(Some(&missing), &env_of(&[]))
            .unwrap_err()
            .code(),
        "CONFIG_READ"
    );
    let env = env_of(&[("LOYALTY_LISTEN", "localhost")]);
    assert_eq!(
        Config::load_with(None, &env).unwrap_err().code(),
        "CONFIG_ENV"
    );
    let p = write(&dir, "body_limit_bytes = 0\n");
    assert_eq!(
        Config::load_with(Some(&p), &env_of(&[]))
            .unwrap_err()
            .code(),
        "CONFIG_ZERO"
    );
    let env = env_of(&[("LOYALTY_REGION", "Russia")]);
    assert_eq!(
        Config::load_with(None, &env).unwrap_err().code(),
        "CONFIG_INVALID"
    );
}

#[test]
fn region_from_file_then_env() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "region = \"BG\"\n");
    assert_eq!(
        Config::load_with(Some(&p), &env_of(&[])).unwrap().region,
        "BG"
    );
    let env = env_of(&[("LOYALTY_REGION", "KZ")]);
    assert_eq!(Config::load_with(Some(&p), &env).unwrap().region, "KZ");
    assert_eq!(Config::default().region, "RU");
}

#[test]
fn empty_env_values_are_ignored() {
    let env = env_of(&[("LOYALTY_LISTEN", ""), ("LOYALTY_CONFIG", "")]);
    assert_eq!(Config::load_with(None, &env).unwrap(), Config::default());
}
