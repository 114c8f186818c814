// Typed wrappers over the Tauri commands. Every rejection becomes an `AppError`.
// Outside Tauri (vite dev / preview in a browser) an in-memory fake core (`mock.ts`,
// loaded on demand) answers instead, so the UI can be developed and looked at alone.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError } from './errors';
import type {
  AdjustInput, Adjusted, AppInfo, CheckoutInput, CustomerHit, CustomerPanel, EnrolInput, EnrolView,
  History, Locale, QuoteRequest, QuoteView, Receipt, Reissued, ReissueInput, ReturnInput, ReturnReceipt,
  SaleLookup, Session, SetupRequest, SyncStatusView, VirtualCardView,
} from './types';

export const inTauri: boolean = typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;

type MockModule = typeof import('./mock');
let mockModule: Promise<MockModule> | null = null;
function mock(): Promise<MockModule> {
  return (mockModule ??= import('./mock'));
}

let onSignedOut: (() => void) | null = null;
let onWritten: (() => void) | null = null;
/** Commands that record a fact (an outbox event): the status bar's pending count moves. */
const WRITES = new Set(['checkout', 'return_sale', 'enrol', 'reissue_card', 'adjust']);

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
    const r = inTauri ? await invoke<T>(cmd, args) : ((await (await mock()).mockInvoke(cmd, args)) as T);
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
  findSale: (receipt: string) => call<SaleLookup>('find_sale', { receipt }),
  returnSale: (req: ReturnInput) => call<ReturnReceipt>('return_sale', { req }),
  enrol: (req: EnrolInput) => call<EnrolView>('enrol', { req }),
  virtualCard: (card: string) => call<VirtualCardView>('virtual_card', { card }),
  reissueCard: (req: ReissueInput) => call<Reissued>('reissue_card', { req }),
  history: (id: number) => call<History>('history', { id }),
  adjust: (req: AdjustInput) => call<Adjusted>('adjust', { req }),
  setLocale: (locale: Locale) => call<null>('set_locale', { locale }),
};

/** Subscribes to the `sync-status` event; resolves to the unsubscribe function. */
export async function onSyncStatus(cb: (s: SyncStatusView) => void): Promise<() => void> {
  if (inTauri) return listen<SyncStatusView>('sync-status', (e) => cb(e.payload));
  return (await mock()).mockListen(cb);
}
