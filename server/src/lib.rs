//! The central loyalty server: accepts till facts, applies them exactly once to the
//! per-account books, serves account changes and snapshots, reserves points online.
//! See `docs/design/sync.md`.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod config;
pub mod export;
pub mod http;
pub mod import;
pub mod import_jobs;
pub mod logging;
pub mod owner;
pub mod progress;
pub mod token;
