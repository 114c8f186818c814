//! Speed for the tests that build many worlds (the model-based property tests): scratch
//! directories on a RAM disk when there is one (`/dev/shm`: no fsync cost; what the tests
//! check is agreement, not durability, which the store's crash test covers), and database
//! files migrated once per process and written out for every world: a server database and
//! one till store per till name with [`super::till::flat_program`] set. A copy is the same
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

/// The migrated databases, kept in memory for the whole process (a file would outlive it).
pub struct Templates {
    server: Vec<u8>,
    tills: Vec<(&'static str, Vec<u8>)>,
}

/// Till names with a template store.
pub const TILL_NAMES: [&str; 3] = ["T01", "T02", "T03"];

impl Templates {
    /// Writes the migrated, empty server database to `to`.
    pub fn write_server_db(&self, to: &Path) {
        write(to, &self.server);
    }

    /// Writes the migrated till store of `name` (one of [`TILL_NAMES`]), with the flat
    /// program set, to `to`.
    pub fn write_till_db(&self, name: &str, to: &Path) {
        let (_, bytes) = self
            .tills
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no template till {name}"));
        write(to, bytes);
    }
}

fn write(to: &Path, bytes: &[u8]) {
    std::fs::write(to, bytes).unwrap_or_else(|e| panic!("write {}: {e}", to.display()));
}

/// A database file whose every connection is closed: complete without a WAL.
fn read_closed(path: &Path) -> Vec<u8> {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "{} was not checkpointed", path.display());
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Built on first use, in a scratch dir removed right after.
pub async fn templates() -> &'static Templates {
    static T: OnceCell<Templates> = OnceCell::const_new();
    T.get_or_init(|| async {
        let dir = scratch_dir();
        let server_db = dir.path().join("server.db");
        let url = format!("sqlite://{}", server_db.display());
        let b = backend::open(&url).await.expect("open template backend");
        b.migrate().await.expect("migrate template");
        drop(b);
        let mut tills = Vec::new();
        for name in TILL_NAMES {
            let path = dir.path().join(format!("{name}.db"));
            let mut s = till::open(&path, name);
            let now = s.clock_now(Utc::now());
            s.set_program(&till::flat_program(), now).expect("program");
            drop(s);
            tills.push((name, read_closed(&path)));
        }
        Templates {
            server: read_closed(&server_db),
            tills,
        }
    })
    .await
}
