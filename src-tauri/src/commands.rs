//! One command per core function; errors cross IPC as `{code, message}` (AppError).
//! Commands are `async` so they run on the async runtime, never on the UI thread.

use loyalty_app::*;
use loyalty_store::{Adjusted, CustomerHit, History, Receipt, ReturnReceipt, SaleLookup};
use tauri::State;

type R<T> = Result<T, AppError>;

#[tauri::command]
pub async fn app_info(app: State<'_, TillApp>) -> R<AppInfo> {
    app.info()
}

#[tauri::command]
pub async fn setup(
    handle: tauri::AppHandle,
    app: State<'_, TillApp>,
    req: SetupRequest,
) -> R<AppInfo> {
    let info = app.setup(req).await?;
    crate::start_background(&handle);
    Ok(info)
}

#[tauri::command]
pub async fn status(app: State<'_, TillApp>) -> R<SyncStatusView> {
    Ok(app.status())
}

#[tauri::command]
pub async fn login(app: State<'_, TillApp>, pin: String) -> R<Session> {
    app.login(&pin)
}

#[tauri::command]
pub async fn logout(app: State<'_, TillApp>) -> R<()> {
    app.logout();
    Ok(())
}

#[tauri::command]
pub async fn session(app: State<'_, TillApp>) -> R<Option<Session>> {
    Ok(app.session())
}

#[tauri::command]
pub async fn set_locale(app: State<'_, TillApp>, locale: Locale) -> R<()> {
    app.set_locale(locale)
}

#[tauri::command]
pub async fn scan(app: State<'_, TillApp>, input: String) -> R<CustomerPanel> {
    app.scan(&input)
}

#[tauri::command]
pub async fn search(app: State<'_, TillApp>, query: String) -> R<Vec<CustomerHit>> {
    app.search(&query)
}

#[tauri::command]
pub async fn customer(app: State<'_, TillApp>, id: i64) -> R<CustomerPanel> {
    app.customer(id)
}

#[tauri::command]
pub async fn quote(app: State<'_, TillApp>, req: QuoteRequest) -> R<QuoteView> {
    app.quote(req)
}

#[tauri::command]
pub async fn checkout(app: State<'_, TillApp>, req: CheckoutInput) -> R<Receipt> {
    app.checkout(req).await
}

#[tauri::command]
pub async fn find_sale(app: State<'_, TillApp>, receipt: String) -> R<SaleLookup> {
    app.find_sale(&receipt)
}

#[tauri::command]
pub async fn return_sale(app: State<'_, TillApp>, req: ReturnInput) -> R<ReturnReceipt> {
    app.return_sale(req)
}

#[tauri::command]
pub async fn enrol(app: State<'_, TillApp>, req: EnrolInput) -> R<EnrolView> {
    app.enrol(req)
}

#[tauri::command]
pub async fn virtual_card(app: State<'_, TillApp>, card: String) -> R<VirtualCardView> {
    app.virtual_card(&card)
}

#[tauri::command]
pub async fn reissue_card(app: State<'_, TillApp>, req: ReissueInput) -> R<Reissued> {
    app.reissue(req)
}

#[tauri::command]
pub async fn history(app: State<'_, TillApp>, id: i64) -> R<History> {
    app.history(id)
}

#[tauri::command]
pub async fn adjust(app: State<'_, TillApp>, req: AdjustInput) -> R<Adjusted> {
    app.adjust(req)
}

#[tauri::command]
pub async fn set_owner_token(app: State<'_, TillApp>, token: String) -> R<AppInfo> {
    app.set_owner_token(&token)
}

#[tauri::command]
pub async fn dashboard(app: State<'_, TillApp>, req: DashboardRequest) -> R<DashboardView> {
    app.dashboard(req).await
}

#[tauri::command]
pub async fn triggers(app: State<'_, TillApp>, req: TriggerRequest) -> R<TriggerList> {
    app.triggers(req).await
}

#[tauri::command]
pub async fn export_triggers(app: State<'_, TillApp>, req: TriggerRequest) -> R<TriggerExport> {
    app.export_triggers(req).await
}

#[tauri::command]
pub async fn tills(app: State<'_, TillApp>) -> R<TillList> {
    app.tills().await
}

#[tauri::command]
pub async fn sell_without_card(
    app: State<'_, TillApp>,
    req: AnonymousSaleInput,
) -> R<AnonymousReceipt> {
    app.sell_without_card(req)
}

#[tauri::command]
pub async fn nps_answer(app: State<'_, TillApp>, req: NpsInput) -> R<()> {
    app.nps_answer(req)
}

#[tauri::command]
pub async fn register_till(app: State<'_, TillApp>, store: String) -> R<RegisteredTill> {
    app.register_till(&store).await
}

#[tauri::command]
pub async fn revoke_till(app: State<'_, TillApp>, id: String) -> R<TillInfo> {
    app.revoke_till(&id).await
}

#[tauri::command]
pub async fn import_files(app: State<'_, TillApp>) -> R<ImportFiles> {
    app.import_files()
}

/// Imports a members CSV through the server; its progress is the `members-import` event.
#[tauri::command]
pub async fn import_members(
    handle: tauri::AppHandle,
    app: State<'_, TillApp>,
    path: String,
) -> R<ImportJob> {
    use tauri::Emitter;
    app.import_members(&path, |job| {
        if let Err(e) = handle.emit("members-import", job) {
            tracing::warn!("cannot emit members-import: {e}");
        }
    })
    .await
}

#[tauri::command]
pub async fn export_members(
    app: State<'_, TillApp>,
    req: MembersExportRequest,
) -> R<MembersExport> {
    app.export_members(req).await
}

#[tauri::command]
pub async fn program_current(app: State<'_, TillApp>) -> R<ProgramCurrent> {
    app.program_current().await
}

#[tauri::command]
pub async fn program_check(app: State<'_, TillApp>, draft: ProgramDraft) -> R<ProgramCheck> {
    app.program_check(draft)
}

#[tauri::command]
pub async fn program_save_draft(
    app: State<'_, TillApp>,
    draft: ProgramDraft,
) -> R<SavedProgramDraft> {
    app.program_save_draft(draft)
}

#[tauri::command]
pub async fn program_discard_draft(app: State<'_, TillApp>) -> R<()> {
    app.program_discard_draft()
}

#[tauri::command]
pub async fn program_publish(
    app: State<'_, TillApp>,
    draft: ProgramDraft,
) -> R<ProgramVersionView> {
    app.program_publish(draft).await
}

#[tauri::command]
pub async fn merge_preview(
    app: State<'_, TillApp>,
    survivor: i64,
    duplicate: i64,
) -> R<MergePreview> {
    app.merge_preview(survivor, duplicate)
}

#[tauri::command]
pub async fn merge_customers(app: State<'_, TillApp>, req: MergeInput) -> R<MergeView> {
    app.merge_customers(req).await
}
