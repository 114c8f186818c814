//! The till desktop app. Wiring only: open the core ([`loyalty_app::TillApp`]) in the data
//! folder, register the commands, forward the sync status as the `sync-status` event (and
//! a members import's progress as `members-import`).
//!
//! Data folder: `LOYALTY_TILL_DATA_DIR`, else the OS app-data folder. The setup form is
//! pre-filled from `LOYALTY_SERVER_URL`, `LOYALTY_DEVICE_TOKEN`, `LOYALTY_OWNER_PIN`,
//! `LOYALTY_CASHIER_PIN`, `LOYALTY_OWNER_TOKEN` (demo mode, provisioning).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::path::PathBuf;

use loyalty_app::TillApp;
use tauri::{Emitter, Manager};

/// Overrides the data folder (tests, several tills on one machine).
const ENV_DATA_DIR: &str = "LOYALTY_TILL_DATA_DIR";
/// `1` keeps WebKit's GPU (accelerated) compositing, off by default (see [`rendering`]).
const ENV_GPU_COMPOSITING: &str = "LOYALTY_GPU_COMPOSITING";

/// The till's screens are flat forms, no animation, no 3D: WebKitGTK's accelerated
/// compositing buys them nothing, and where there is no usable GPU (Mesa's software
/// rasterizer: a VM, a till without GPU drivers, Xvfb) every frame goes through llvmpipe:
/// measured with `loyalty-bench app`, ≈ 110 MiB more PSS (the LLVM JIT and GL buffers in
/// the web process) and scans painted half as fast. So the web view paints without it
/// unless `LOYALTY_GPU_COMPOSITING=1`; a `WEBKIT_DISABLE_COMPOSITING_MODE` already set wins.
/// Runs first in `main`, before any thread exists (it sets an environment variable that
/// WebKit reads when the web view is created).
fn rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
        && std::env::var(ENV_GPU_COMPOSITING).as_deref() != Ok("1")
    {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

fn data_dir(app: &tauri::App) -> Result<PathBuf, String> {
    match std::env::var_os(ENV_DATA_DIR) {
        Some(d) if !d.is_empty() => Ok(PathBuf::from(d)),
        _ => app
            .path()
            .app_data_dir()
            .map_err(|e| format!("no app-data folder: {e}")),
    }
}

/// Starts the sync (when configured) and forwards status changes to the window.
pub(crate) fn start_background(handle: &tauri::AppHandle) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let app = handle.state::<TillApp>();
        if let Err(e) = app.start_sync() {
            if e.code != "NOT_CONFIGURED" {
                tracing::error!("sync not started: {e}");
            }
            return;
        }
        let mut rx = app.subscribe_status();
        loop {
            let view = rx.borrow_and_update().clone();
            if let Err(e) = handle.emit("sync-status", view) {
                tracing::warn!("cannot emit sync-status: {e}");
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
    });
}

fn main() {
    rendering();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let result = tauri::Builder::default()
        .setup(|app| {
            let dir = data_dir(app)?;
            let till = TillApp::open(&dir, loyalty_app::defaults_from_env())
                .map_err(|e| format!("cannot open the till's data in {}: {e}", dir.display()))?;
            tracing::info!(data_dir = %dir.display(), "till app started");
            app.manage(till);
            start_background(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::setup,
            commands::status,
            commands::login,
            commands::logout,
            commands::session,
            commands::set_locale,
            commands::scan,
            commands::search,
            commands::customer,
            commands::quote,
            commands::checkout,
            commands::find_sale,
            commands::return_sale,
            commands::enrol,
            commands::virtual_card,
            commands::reissue_card,
            commands::history,
            commands::adjust,
            commands::set_owner_token,
            commands::dashboard,
            commands::triggers,
            commands::export_triggers,
            commands::tills,
            commands::sell_without_card,
            commands::nps_answer,
            commands::register_till,
            commands::revoke_till,
            commands::import_files,
            commands::import_members,
            commands::export_members,
            commands::program_current,
            commands::program_check,
            commands::program_save_draft,
            commands::program_discard_draft,
            commands::program_publish,
            commands::merge_preview,
            commands::merge_customers,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("the till app stopped with an error: {e}");
        std::process::exit(1);
    }
}
