//! Speed for the tests that build many worlds (the model-based property tests): scratch
//! directories on a RAM disk when there is one (`/dev/shm`: no fsync cost; what the tests
//! check is agreement, not durability, which the store's crash test covers), and database
//! files migrated once per process and copied for every world: a server database and one
//! till store per till name with [`super::till::flat_program`] set. A copy is the same
//! file a fresh migration writes, so every world still runs on real SQLite files.

use std::path::{Path, PathBuf};

use chrono::Utc;
use loyalty_server::backend;
use tempfile::TempDir;
use tokio::sync::OnceCell;

use super::till;

/// A temp dir on `/dev/shm` when it is usable, else in the default temp dir.
pub fn scratch_dir() -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("loyalty-").tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("tempdir")
}

/// The migrated files (kept for the whole process).
pub struct Templates {
    dir: TempDir,
}

/// Till names with a template store.
pub const TILL_NAMES: [&str; 3] = ["T01", "T02", "T03"];

impl Templates {
    /// The migrated, empty server database.
    pub fn server_db(&self) -> PathBuf {
        self.dir.path().join("server.db")
    }

    /// The migrated till store of `name` (one of [`TILL_NAMES`]) with the flat program.
    pub fn till_db(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.db"))
    }
}

/// Built on first use: every connection is closed again, so each file is complete
/// without its WAL and can be copied.
pub async fn templates() -> &'static Templates {
    static T: OnceCell<Templates> = OnceCell::const_new();
    T.get_or_init(|| async {
        let dir = scratch_dir();
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let b = backend::open(&url).await.expect("open template backend");
        b.migrate().await.expect("migrate template");
        drop(b);
        for name in TILL_NAMES {
            let mut s = till::open(&dir.path().join(format!("{name}.db")), name);
            let now = s.clock_now(Utc::now());
            s.set_program(&till::flat_program(), now).expect("program");
        }
        Templates { dir }
    })
    .await
}

/// Copies a template database to `to` (with its WAL, should one be left).
pub fn copy(from: &Path, to: &Path) {
    let with = |p: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", p.display()));
    for suffix in ["", "-wal"] {
        let (src, dst) = (with(from, suffix), with(to, suffix));
        if suffix.is_empty() || src.exists() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
        }
    }
}
