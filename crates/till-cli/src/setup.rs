//! Where the till keeps its data and how the store is opened.

use std::fs;
use std::path::PathBuf;

use loyalty_store::{Store, StoreOptions};

use crate::commands::CliError;

/// Identity and data folder of this till.
pub struct TillSetup {
    pub data_dir: PathBuf,
    pub till: String,
    pub store: String,
    pub region: String,
}

impl TillSetup {
    /// Opens the store in the data folder, creating the folder and the till's QR key on first use.
    pub fn open(&self) -> Result<Store, CliError> {
        fs::create_dir_all(&self.data_dir).map_err(|e| CliError::Io(e.to_string()))?;
        let qr_seed = self.qr_seed()?;
        let opts = StoreOptions {
            till_id: self.till.clone(),
            store_id: self.store.clone(),
            default_region: self.region.clone(),
            qr_seed,
        };
        Ok(Store::open(self.data_dir.join("till.db"), opts)?)
    }

    /// The program's QR signing seed: 32 random bytes kept in `qr.key` (created once).
    pub fn qr_seed(&self) -> Result<[u8; 32], CliError> {
        let path = self.data_dir.join("qr.key");
        if let Ok(bytes) = fs::read(&path) {
            return <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| CliError::Io(format!("{} is not a 32-byte key", path.display())));
        }
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| CliError::Io(e.to_string()))?;
        fs::write(&path, seed).map_err(|e| CliError::Io(e.to_string()))?;
        Ok(seed)
    }
}
