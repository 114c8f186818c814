//! A fault-injecting TCP proxy on the real HTTP path: tills talk to the proxy with their
//! real `HttpTransport`, the proxy to a real `loyalty-server` listener. Each request is
//! read whole and then, at random (seeded): dropped before it is forwarded (the server
//! never sees it), delayed, forwarded twice (one after the other or both at once: the
//! server sees a duplicate), and its response cut after the server handled it (nothing or
//! a truncated part reaches the till: the server committed, the till never heard).
//! Every forwarded request asks the server to close the connection afterwards, so a
//! response is simply everything the server sends.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Probabilities (0.0 ..= 1.0) of each fault, drawn independently per request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    pub drop_request: f64,
    pub cut_response: f64,
    pub duplicate: f64,
    pub delay: f64,
    /// Longest injected delay (keep it well under the client's request timeout).
    pub max_delay: Duration,
}

impl Faults {
    /// A healed network.
    pub fn none() -> Faults {
        Faults {
            drop_request: 0.0,
            cut_response: 0.0,
            duplicate: 0.0,
            delay: 0.0,
            max_delay: Duration::ZERO,
        }
    }
}

/// What the proxy did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    pub requests: u64,
    pub dropped: u64,
    pub cut: u64,
    pub duplicated: u64,
    pub delayed: u64,
}

/// One request's fate.
#[derive(Default)]
struct Plan {
    drop: bool,
    cut: Option<f64>,
    duplicate: Option<bool>,
    delay: Option<Duration>,
}

struct State {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    injected: Mutex<Injected>,
}

impl State {
    fn plan(&self) -> Plan {
        let f = *self.faults.lock().expect("lock");
        let mut rng = self.rng.lock().expect("lock");
        let hit = |rng: &mut Rng, p: f64| rng.f64() < p;
        let mut plan = Plan {
            drop: hit(&mut rng, f.drop_request),
            ..Plan::default()
        };
        if !plan.drop {
            if hit(&mut rng, f.delay) {
                plan.delay = Some(f.max_delay.mul_f64(rng.f64()));
            }
            if hit(&mut rng, f.duplicate) {
                plan.duplicate = Some(rng.bool());
            }
            if hit(&mut rng, f.cut_response) {
                plan.cut = Some(rng.f64());
            }
        }
        let mut n = self.injected.lock().expect("lock");
        n.requests += 1;
        n.dropped += u64::from(plan.drop);
        n.delayed += u64::from(plan.delay.is_some());
        n.duplicated += u64::from(plan.duplicate.is_some());
        n.cut += u64::from(plan.cut.is_some());
        plan
    }
}

/// A small seeded generator (SplitMix64) for the proxy and the tests' schedules.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn bool(&mut self) -> bool {
        self.u64() & 1 == 1
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.u64() % (hi - lo) as u64) as i64
    }
}

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 (a free port) in front of `upstream`.
    pub async fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(State {
            upstream,
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed)),
            injected: Mutex::new(Injected::default()),
        });
        let s = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                // A failed exchange is just a broken connection for the till.
                tokio::spawn(serve(client, s.clone()));
            }
        });
        FaultProxy {
            addr,
            state,
            accept,
        }
    }

    /// The base URL tills use.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().expect("lock") = faults;
    }

    pub fn heal(&self) {
        self.set_faults(Faults::none());
    }

    pub fn injected(&self) -> Injected {
        *self.state.injected.lock().expect("lock")
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Largest request head read.
const MAX_HEAD: usize = 64 * 1024;
/// No exchange with the server may hang a till for longer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(20);

async fn serve(mut client: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let plan = state.plan();
    if plan.drop {
        return Ok(()); // closing the connection: the server never saw the request
    }
    if let Some(d) = plan.delay {
        tokio::time::sleep(d).await;
    }
    let up = state.upstream;
    let response = match plan.duplicate {
        None => forward(up, &request).await?,
        Some(false) => {
            let _ = forward(up, &request).await;
            forward(up, &request).await?
        }
        Some(true) => {
            let (a, b) = tokio::join!(forward(up, &request), forward(up, &request));
            match (a, b) {
                (_, Ok(r)) | (Ok(r), Err(_)) => r,
                (Err(e), Err(_)) => return Err(e),
            }
        }
    };
    if let Some(share) = plan.cut {
        // The server handled it; the till gets nothing or a truncated answer.
        let keep = ((response.len() as f64) * share) as usize;
        client
            .write_all(&response[..keep.min(response.len().saturating_sub(1))])
            .await?;
        return client.shutdown().await;
    }
    client.write_all(&response).await?;
    client.shutdown().await
}

/// One whole HTTP/1.1 request (head and `Content-Length` body) with `Connection: close`;
/// `None` when the client closed first.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines: Vec<&str> = head.split("\r\n").filter(|l| !l.is_empty()).collect();
    let mut length = 0usize;
    for l in &lines {
        if let Some((name, value)) = l.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| std::io::Error::other("bad content-length"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(std::io::Error::other("chunked requests are not proxied"));
            }
        }
    }
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    lines.retain(|l| {
        let name = l.split(':').next().unwrap_or_default();
        !(name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive"))
    });
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&buf[head_end..head_end + length]);
    Ok(Some(out))
}

/// Sends `request` on a new connection and reads the whole answer (the server closes).
async fn forward(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let exchange = async {
        let mut s = TcpStream::connect(upstream).await?;
        s.write_all(request).await?;
        let mut response = Vec::new();
        s.read_to_end(&mut response).await?;
        if response.is_empty() {
            return Err(std::io::Error::other("empty answer"));
        }
        Ok(response)
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::other("upstream timed out"))?
}
