//! The Tauri config lives at the repository root; the app's commands get generated
//! `allow-*` permissions, granted one by one in `capabilities/default.json`.

const COMMANDS: &[&str] = &[
    "app_info",
    "setup",
    "status",
    "login",
    "logout",
    "session",
    "set_locale",
    "scan",
    "search",
    "customer",
    "quote",
    "checkout",
    "find_sale",
    "return_sale",
    "enrol",
    "virtual_card",
    "reissue_card",
    "history",
    "adjust",
    "set_owner_token",
    "dashboard",
    "triggers",
    "export_triggers",
    "tills",
    "sell_without_card",
    "nps_answer",
    "register_till",
    "revoke_till",
    "import_files",
    "import_members",
    "export_members",
    "program_current",
    "program_check",
    "program_save_draft",
    "program_discard_draft",
    "program_publish",
    "merge_preview",
    "merge_customers",
];

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed (see the message above)");
}
