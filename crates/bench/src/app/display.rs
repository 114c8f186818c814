//! The X display the app draws on: `DISPLAY` when there is one (`make bench-app` runs the
//! benchmark under `xvfb-run`), else an Xvfb of the benchmark's own on the first free
//! display number from :99 (like `xvfb-run -a`), stopped at the end.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Display {
    /// `:99`.
    pub name: String,
    /// Where it came from, for the report.
    pub origin: &'static str,
    xvfb: Option<Child>,
}

impl Display {
    pub fn get() -> Result<Display, String> {
        if let Some(d) = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()) {
            return Ok(Display {
                name: d,
                origin: "DISPLAY",
                xvfb: None,
            });
        }
        let xvfb = super::driver::which("Xvfb")
            .ok_or("no DISPLAY and no Xvfb: run under xvfb-run (make bench-app does)")?;
        for n in 99..199 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() || socket(n).exists() {
                continue;
            }
            let mut child = Command::new(&xvfb)
                .arg(format!(":{n}"))
                .args(["-screen", "0", "1024x768x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("Xvfb: {e}"))?;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost a race for this number: try the next
                }
                if socket(n).exists() {
                    return Ok(Display {
                        name: format!(":{n}"),
                        origin: "Xvfb started by the benchmark",
                        xvfb: Some(child),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            super::procs::stop(&[child.id()]);
            let _ = child.wait();
        }
        Err("could not start Xvfb on :99..:198".into())
    }
}

fn socket(n: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/.X11-unix/X{n}"))
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(c) = &mut self.xvfb {
            // TERM, so Xvfb removes its lock file and socket (KILL would leave them).
            super::procs::stop(&[c.id()]);
            let _ = c.wait();
        }
    }
}
