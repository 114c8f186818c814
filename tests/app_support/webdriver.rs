//! A small W3C WebDriver client (the few endpoints the app tests use) over reqwest, talking
//! to tauri-driver, which drives the real app through WebKitWebDriver.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The W3C element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    base: String,
    session: String,
    http: reqwest::Client,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Driver {
    /// A new session running `application` (the app binary).
    pub async fn start(driver_url: &str, application: &str) -> Result<Driver, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| e.to_string())?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application}
        }}});
        let v: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .map_err(|e| format!("new session: {e} ({:?})", std::error::Error::source(&e)))?
            .json()
            .await
            .map_err(|e| format!("new session answer: {e}"))?;
        let session = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {v}"))?
            .to_string();
        Ok(Driver {
            base: driver_url.to_string(),
            session,
            http,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        } else if method == reqwest::Method::POST {
            req = req.json(&json!({}));
        }
        let v: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} answer: {e}"));
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// The element matching `css` now, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    /// Waits (up to `timeout`) until `css` matches and is displayed.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let start = Instant::now();
        loop {
            if let Some(e) = self.try_find(css).await {
                if self.displayed(&e).await {
                    return e;
                }
            }
            if start.elapsed() > timeout {
                let shot = self.screenshot_b64().await;
                let _ = std::fs::write("/tmp/loyalty-app-test-failure.png", decode_b64(&shot));
                panic!("{css} did not appear within {timeout:?} (screenshot in /tmp/loyalty-app-test-failure.png)");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `wait_for` with the default 15 s.
    pub async fn el(&self, css: &str) -> Element {
        self.wait_for(css, Duration::from_secs(15)).await
    }

    /// Waits (up to 20 s) until `f(text of css)` holds; `what` names it in the failure.
    pub async fn wait_text(&self, css: &str, what: &str, f: impl Fn(&str) -> bool) -> String {
        let timeout = Duration::from_secs(20);
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Some(e) = self.try_find(css).await {
                last = self.text(&e).await;
                if f(&last) {
                    return last;
                }
            }
            if start.elapsed() > timeout {
                panic!("{css}: expected {what}, still {last:?} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `f(attribute)` holds.
    pub async fn wait_attr(
        &self,
        css: &str,
        attr: &str,
        timeout: Duration,
        f: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Some(e) = self.try_find(css).await {
                last = self.attr(&e, attr).await.unwrap_or_default();
                if f(&last) {
                    return last;
                }
            }
            if start.elapsed() > timeout {
                panic!("{css}[{attr}] stayed {last:?} for {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    pub async fn clear(&self, e: &Element) {
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await;
    }

    /// Types `keys` (use `ENTER` etc. for special keys).
    pub async fn keys(&self, e: &Element, keys: &str) {
        self.post(
            &format!("/element/{}/value", e.0),
            json!({"text": keys, "value": keys.chars().map(|c| c.to_string()).collect::<Vec<_>>()}),
        )
        .await;
    }

    /// Clears the field and types `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.el(css).await;
        self.clear(&e).await;
        self.keys(&e, text).await;
    }

    pub async fn text(&self, e: &Element) -> String {
        self.get(&format!("/element/{}/text", e.0))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn attr(&self, e: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", e.0))
            .await
            .as_str()
            .map(str::to_string)
    }

    pub async fn displayed(&self, e: &Element) -> bool {
        self.get(&format!("/element/{}/displayed", e.0))
            .await
            .as_bool()
            .unwrap_or(false)
    }

    /// Runs `script` in the page; returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    pub async fn screenshot_b64(&self) -> String {
        self.get("/screenshot")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = decode_b64(&self.screenshot_b64().await);
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        std::fs::write(path, png).unwrap();
    }

    pub async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

/// The Enter key.
pub const ENTER: &str = "\u{E007}";
/// The Escape key.
pub const ESCAPE: &str = "\u{E00C}";

fn decode_b64(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut map = [255u8; 256];
    for (i, c) in T.iter().enumerate() {
        map[*c as usize] = i as u8;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in s.bytes() {
        let v = map[b as usize];
        if v == 255 {
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
