// Typed wrappers over the Tauri commands. Every rejection becomes an `AppError`.
// The screens only work inside the till app: there is no stand-in core (outside Tauri every
// call fails with NOT_IN_APP).
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError } from './errors';
import type {
  AdjustInput, Adjusted, AnonymousReceipt, AnonymousSaleInput, AppInfo, CheckoutInput, CustomerHit, CustomerPanel, DashboardRequest, DashboardView,
  EnrolInput, EnrolView, RegisteredTill, TillInfo, TillList, TriggerExport, TriggerList, TriggerRequest,
  History, Locale, QuoteRequest, QuoteView, Receipt, Reissued, ReissueInput, ReturnInput, ReturnReceipt,
  NpsInput, SaleLookup, Session, SetupRequest, SyncStatusView, VirtualCardView,
  ImportFiles, ImportJob, MembersExport, MembersExportRequest,
  ProgramCheck, ProgramCurrent, ProgramDraft, ProgramVersionView, SavedProgramDraft,
  MergeInput, MergePreview, MergeView,
} from './types';

export const inTauri: boolean = typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;

const notInApp = { code: 'NOT_IN_APP', message: 'these screens run inside the Loyalty Till app' };

let onSignedOut: (() => void) | null = null;
let onWritten: (() => void) | null = null;
/** Commands that record a fact (an outbox event): the status bar's pending count moves. */
const WRITES = new Set(['checkout', 'sell_without_card', 'nps_answer', 'return_sale', 'enrol', 'reissue_card', 'adjust']);

/** Called after every successful write (the status bar refreshes its figures). */
export function setWrittenHandler(f: () => void): void {
  onWritten = f;
}

/** Called when the core says the session is gone (NOT_LOGGED_IN): back to the PIN screen. */
export function setSignedOutHandler(f: () => void): void {
  onSignedOut = f;
}

async function call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    if (!inTauri) throw notInApp;
    const r = await invoke<T>(cmd, args);
    if (WRITES.has(cmd)) onWritten?.();
    return r;
  } catch (e) {
    const err = toAppError(e);
    if (err.code === 'NOT_LOGGED_IN' && cmd !== 'login') onSignedOut?.();
    throw err;
  }
}

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  setup: (req: SetupRequest) => call<AppInfo>('setup', { req }),
  status: () => call<SyncStatusView>('status'),
  login: (pin: string) => call<Session>('login', { pin }),
  logout: () => call<null>('logout'),
  session: () => call<Session | null>('session'),
  scan: (input: string) => call<CustomerPanel>('scan', { input }),
  search: (query: string) => call<CustomerHit[]>('search', { query }),
  customer: (id: number) => call<CustomerPanel>('customer', { id }),
  quote: (req: QuoteRequest) => call<QuoteView>('quote', { req }),
  checkout: (req: CheckoutInput) => call<Receipt>('checkout', { req }),
  sellWithoutCard: (req: AnonymousSaleInput) => call<AnonymousReceipt>('sell_without_card', { req }),
  npsAnswer: (req: NpsInput) => call<null>('nps_answer', { req }),
  findSale: (receipt: string) => call<SaleLookup>('find_sale', { receipt }),
  returnSale: (req: ReturnInput) => call<ReturnReceipt>('return_sale', { req }),
  enrol: (req: EnrolInput) => call<EnrolView>('enrol', { req }),
  virtualCard: (card: string) => call<VirtualCardView>('virtual_card', { card }),
  reissueCard: (req: ReissueInput) => call<Reissued>('reissue_card', { req }),
  history: (id: number) => call<History>('history', { id }),
  adjust: (req: AdjustInput) => call<Adjusted>('adjust', { req }),
  setLocale: (locale: Locale) => call<null>('set_locale', { locale }),
  // Owner only (the core refuses a cashier with FORBIDDEN).
  setOwnerToken: (token: string) => call<AppInfo>('set_owner_token', { token }),
  dashboard: (req: DashboardRequest) => call<DashboardView>('dashboard', { req }),
  triggers: (req: TriggerRequest) => call<TriggerList>('triggers', { req }),
  exportTriggers: (req: TriggerRequest) => call<TriggerExport>('export_triggers', { req }),
  tills: () => call<TillList>('tills'),
  registerTill: (store: string) => call<RegisteredTill>('register_till', { store }),
  revokeTill: (id: string) => call<TillInfo>('revoke_till', { id }),
  importFiles: () => call<ImportFiles>('import_files'),
  /** Resolves with the finished job; its progress comes as `members-import` events. */
  importMembers: (path: string) => call<ImportJob>('import_members', { path }),
  exportMembers: (req: MembersExportRequest) => call<MembersExport>('export_members', { req }),
  programCurrent: () => call<ProgramCurrent>('program_current'),
  programCheck: (draft: ProgramDraft) => call<ProgramCheck>('program_check', { draft }),
  programSaveDraft: (draft: ProgramDraft) => call<SavedProgramDraft>('program_save_draft', { draft }),
  programDiscardDraft: () => call<null>('program_discard_draft'),
  programPublish: (draft: ProgramDraft) => call<ProgramVersionView>('program_publish', { draft }),
  mergePreview: (survivor: number, duplicate: number) => call<MergePreview>('merge_preview', { survivor, duplicate }),
  /** On the server; this till shows it after its next sync (started at once). */
  mergeCustomers: (req: MergeInput) => call<MergeView>('merge_customers', { req }),
};

/** Subscribes to the `sync-status` event; resolves to the unsubscribe function. */
export async function onSyncStatus(cb: (s: SyncStatusView) => void): Promise<() => void> {
  if (!inTauri) throw notInApp;
  return listen<SyncStatusView>('sync-status', (e) => cb(e.payload));
}

/** Subscribes to a members import's progress (`members-import`); resolves to the unsubscribe function. */
export async function onMembersImport(cb: (job: ImportJob) => void): Promise<() => void> {
  if (!inTauri) throw notInApp;
  return listen<ImportJob>('members-import', (e) => cb(e.payload));
}
