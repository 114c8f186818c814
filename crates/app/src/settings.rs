//! The till's settings file (`settings.json` in the data folder) and its QR key: written
//! atomically (temp file + rename), readable only by the user (the device token is a secret).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::Locale;
use crate::error::{AppError, AppResult};

/// What setup stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub server_url: String,
    pub device_token: String,
    pub till_id: String,
    pub store_id: String,
    pub store_name: String,
    #[serde(default)]
    pub locale: Locale,
    /// Phone numbering region ("RU", "BG", ...).
    pub region: String,
    /// The owner's back-office token (`loyalty-server owner token`), when the owner gave it
    /// to this till; a secret like the device token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_token: Option<String>,
}

const FILE: &str = "settings.json";
const QR_KEY: &str = "qr.key";

pub fn load(dir: &Path) -> AppResult<Option<Settings>> {
    let path = dir.join(FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            AppError::new(
                "SETTINGS_CORRUPT",
                format!("{} cannot be read ({e}): fix or delete it", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AppError::io(&format!("reading {}", path.display()), e)),
    }
}

pub fn save(dir: &Path, s: &Settings) -> AppResult<()> {
    let bytes = serde_json::to_vec_pretty(s).map_err(|e| AppError::io("settings", e))?;
    write_private(&dir.join(FILE), &bytes)
}

/// The program's QR signing seed: 32 random bytes kept in `qr.key`, created once.
pub fn qr_seed(dir: &Path) -> AppResult<[u8; 32]> {
    let path = dir.join(QR_KEY);
    match fs::read(&path) {
        Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            AppError::new(
                "SETTINGS_CORRUPT",
                format!("{} is not a 32-byte key", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed).map_err(|e| AppError::io("random", e))?;
            write_private(&path, &seed)?;
            Ok(seed)
        }
        Err(e) => Err(AppError::io(&format!("reading {}", path.display()), e)),
    }
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> AppResult<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    let ctx = |e: std::io::Error| AppError::io(&format!("writing {}", path.display()), e);
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(ctx)?;
        f.write_all(bytes).map_err(ctx)?;
        f.sync_all().map_err(ctx)?;
    }
    fs::rename(&tmp, path).map_err(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let s = Settings {
            server_url: "http://127.0.0.1:1".into(),
            device_token: "ltk_x".into(),
            till_id: "T1".into(),
            store_id: "S1".into(),
            store_name: "Main".into(),
            locale: Locale::Bg,
            region: "BG".into(),
            owner_token: Some("lok_y".into()),
        };
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(s));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "the tokens are readable by the user only"
            );
        }
        fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert_eq!(load(dir.path()).unwrap_err().code, "SETTINGS_CORRUPT");
        let a = qr_seed(dir.path()).unwrap();
        assert_eq!(a, qr_seed(dir.path()).unwrap(), "the key is made once");
    }
}
