//! HTTPS with a self-signed certificate (rustls, ring provider).

use loyalty_server::backend;
use loyalty_server::config::{Config, TlsConfig};
use loyalty_server::http;

#[tokio::test]
async fn serves_https_when_cert_and_key_are_configured() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        tls: Some(TlsConfig {
            cert: cert_path,
            key: key_path,
        }),
        ..Config::default()
    };
    let be = backend::open(&config.effective_database_url())
        .await
        .unwrap();
    be.migrate().await.unwrap();
    let server = http::start(config, be).await.unwrap();
    assert!(server.tls);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", server.addr)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/api/v1/health", server.addr.port());
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Plain HTTP to the TLS port does not get an answer.
    let plain = format!("http://127.0.0.1:{}/api/v1/health", server.addr.port());
    let r = reqwest::Client::new().get(&plain).send().await;
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true));
    server
        .shutdown(std::time::Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_certificate_files_are_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        tls: Some(TlsConfig {
            cert: dir.path().join("none.pem"),
            key: dir.path().join("none.key"),
        }),
        ..Config::default()
    };
    let be = backend::open(&config.effective_database_url())
        .await
        .unwrap();
    let err = http::start(config, be).await.err().unwrap();
    assert_eq!(err.code(), "SERVE_TLS");
}
