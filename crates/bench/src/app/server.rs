//! The real `loyalty-server` binary in `<data-dir>/app-server-<N>/` (kept between runs like
//! the store benchmark's database): the members CSV generated once, `migrate`, `import`
//! (a rerun of the same file is the server's own no-op), a till per run (`till add`, its
//! token parsed from the output; revoked at the end) and `serve` on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::driver::{free_port, wait_listening};
use super::members;

pub struct ServerDir {
    pub bin: PathBuf,
    pub dir: PathBuf,
    /// Seconds spent generating the CSV this run (None: it was there).
    pub csv_s: Option<f64>,
    /// Seconds spent importing this run (None: already imported by an earlier run).
    pub import_s: Option<f64>,
}

fn run(cmd: &mut Command, what: &str) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

impl ServerDir {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("LOYALTY_DATA_DIR", self.dir.join("server"))
            .env("LOYALTY_LOG", "warn")
            .env_remove("LOYALTY_DATABASE_URL")
            .env_remove("LOYALTY_CONFIG")
            .env_remove("LOYALTY_LISTEN")
            .env_remove("LOYALTY_TLS_CERT")
            .env_remove("LOYALTY_TLS_KEY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Generates the CSV when missing, migrates, imports (a no-op when already imported).
    pub fn prepare(bin: &Path, dir: &Path, members: u64) -> Result<ServerDir, String> {
        std::fs::create_dir_all(dir.join("server"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut s = ServerDir {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            csv_s: None,
            import_s: None,
        };
        let csv = dir.join(members::csv_name(members));
        if !csv.is_file() {
            eprintln!(
                "app bench: generating {} members → {}",
                members,
                csv.display()
            );
            let t = Instant::now();
            members::write_csv(&csv, members)?;
            s.csv_s = Some(t.elapsed().as_secs_f64());
        }
        run(s.cmd().arg("migrate"), "loyalty-server migrate")?;
        eprintln!("app bench: loyalty-server import {}", csv.display());
        let t = Instant::now();
        let out = run(
            s.cmd().arg("import").arg(&csv).arg("--no-progress"),
            "loyalty-server import",
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.contains("already imported") {
            s.import_s = Some(t.elapsed().as_secs_f64());
        }
        Ok(s)
    }

    /// `loyalty-server till add`: (till id, device token).
    pub fn add_till(&self, store: &str) -> Result<(String, String), String> {
        let out = run(
            self.cmd().args(["till", "add", "--store", store]),
            "loyalty-server till add",
        )?;
        parse_till_add(&String::from_utf8_lossy(&out.stdout))
    }

    pub fn revoke_till(&self, till_id: &str) -> Result<(), String> {
        run(
            self.cmd().args(["till", "revoke", till_id]),
            "loyalty-server till revoke",
        )
        .map(drop)
    }

    /// `loyalty-server serve` on 127.0.0.1:<free port>.
    pub fn serve(&self, log: &Path) -> Result<Serving, String> {
        let port = free_port()?;
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = self
            .cmd()
            .arg("serve")
            .env("LOYALTY_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("loyalty-server serve: {e}"))?;
        let s = Serving {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        if !wait_listening(port, Duration::from_secs(30)) {
            return Err("loyalty-server serve did not listen within 30 s".into());
        }
        Ok(s)
    }
}

/// `till_id: T..` and `token: ...` lines of `till add`.
pub fn parse_till_add(out: &str) -> Result<(String, String), String> {
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (field("till_id:"), field("token:")) {
        (Some(id), Some(token)) => Ok((id, token)),
        _ => Err(format!("till add: no till_id/token in {out:?}")),
    }
}

/// The running server; stopped on drop.
pub struct Serving {
    child: Child,
    pub url: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        super::procs::stop(&[self.child.id()]);
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_till_add() {
        let out = "till_id: T03\nstore:   Bench (S1)\ntoken:   lt_abc123\n(the token is shown only this once: configure it on the till now)\n";
        assert_eq!(
            parse_till_add(out).unwrap(),
            ("T03".to_string(), "lt_abc123".to_string())
        );
        assert!(parse_till_add("till_id: T1\n").is_err());
    }
}
