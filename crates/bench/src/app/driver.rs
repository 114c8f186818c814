//! tauri-driver (which runs WebKitWebDriver, which runs the app) and a small W3C WebDriver
//! client over reqwest: the few endpoints the benchmark uses. Errors are returned, not
//! panicked, so the benchmark can stop everything it started and say what failed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::procs;

/// The W3C element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `name` on PATH or in ~/.cargo/bin.
pub fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A free loopback port.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// tauri-driver for the lifetime of the value; everything under it is stopped on drop.
pub struct TauriDriver {
    child: Child,
    pub url: String,
}

impl TauriDriver {
    /// Starts tauri-driver; `env` goes to the app it launches (through WebKitWebDriver).
    pub fn start(env: &[(&str, String)], log: &Path) -> Result<TauriDriver, String> {
        let bin = which("tauri-driver")
            .ok_or("tauri-driver is not on PATH nor in ~/.cargo/bin (make deps installs it)")?;
        let native = which("WebKitWebDriver")
            .ok_or("WebKitWebDriver is missing (webkit2gtk-driver; make deps installs it)")?;
        let port = free_port()?;
        let native_port = free_port()?;
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| format!("tauri-driver: {e}"))?;
        let d = TauriDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // tauri-driver listens at once; WebKitWebDriver, which it starts, a little later.
        for p in [port, native_port] {
            if !wait_listening(p, Duration::from_secs(20)) {
                return Err(format!(
                    "tauri-driver: nothing listens on port {p} after 20 s"
                ));
            }
        }
        Ok(d)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // WebKitWebDriver and an app it launched outlive tauri-driver: stop them by PID.
        let under = procs::descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        procs::stop(&under);
    }
}

/// One WebDriver session = one run of the app.
pub struct Session {
    base: String,
    id: String,
    http: reqwest::Client,
}

fn webdriver_error(what: &str, v: &Value) -> Option<String> {
    let e = v.get("value")?.get("error")?.as_str()?;
    let msg = v["value"]["message"].as_str().unwrap_or_default();
    Some(format!("{what}: {e}: {msg}"))
}

impl Session {
    /// A new session: WebKitWebDriver launches `application`.
    pub async fn start(driver_url: &str, application: &Path) -> Result<Session, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(180))
            .build()
            .map_err(|e| e.to_string())?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application.display().to_string()}
        }}});
        let v: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .map_err(|e| format!("new session: {e}"))?
            .json()
            .await
            .map_err(|e| format!("new session answer: {e}"))?;
        if let Some(e) = webdriver_error("new session", &v) {
            return Err(e);
        }
        let id = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("new session: no session id in {v}"))?
            .to_string();
        let s = Session {
            base: driver_url.to_string(),
            id,
            http,
        };
        s.call(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({"script": 120_000})),
        )
        .await?;
        Ok(s)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.id);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        } else if method == reqwest::Method::POST {
            req = req.json(&json!({}));
        }
        let v: Value = req
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{method} {path} answer: {e}"))?;
        if let Some(e) = webdriver_error(&format!("{method} {path}"), &v) {
            return Err(e);
        }
        Ok(v["value"].clone())
    }

    /// Runs `script` whose last argument is the callback that ends it.
    pub async fn script_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// The element matching `css` now, if any.
    pub async fn find(&self, css: &str) -> Result<Option<String>, String> {
        let url = format!("{}/session/{}/element", self.base, self.id);
        let v: Value = self
            .http
            .post(&url)
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .map_err(|e| format!("find {css}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("find {css} answer: {e}"))?;
        Ok(v["value"][ELEMENT].as_str().map(str::to_string))
    }

    /// Waits up to `timeout` for `css` to match.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.find(css).await? {
                return Ok(e);
            }
            if start.elapsed() > timeout {
                return Err(format!("{css} did not appear within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, element: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            None,
        )
        .await
        .map(drop)
    }

    /// Types `text` into the element (`\u{E007}` is Enter).
    pub async fn keys(&self, element: &str, text: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(drop)
    }

    /// Ends the session: WebKitWebDriver closes the app.
    pub async fn quit(self) -> Result<(), String> {
        self.http
            .delete(format!("{}/session/{}", self.base, self.id))
            .send()
            .await
            .map(drop)
            .map_err(|e| format!("end session: {e}"))
    }
}

/// The Enter key.
pub const ENTER: &str = "\u{E007}";
