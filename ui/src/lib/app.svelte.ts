// Application state shared by the screens (Svelte 5 runes).
import type { AppError, AppInfo, CustomerPanel, Session, SyncStatusView } from './types';
import { NpsQuestion } from './nps';
import { i18n } from './i18n/index.svelte';
import { api } from './api';
import { toAppError } from './errors';

export type Screen = 'scan' | 'return' | 'enrol' | 'history' | 'reissue' | 'owner' | 'merge';
export type OwnerTab = 'dashboard' | 'triggers' | 'members' | 'tills' | 'program' | 'token';

class AppState {
  info = $state<AppInfo | null>(null);
  status = $state<SyncStatusView | null>(null);
  session = $state<Session | null>(null);
  screen = $state<Screen>('scan');
  /** The owner menu's open tab. */
  ownerTab = $state<OwnerTab>('dashboard');
  /** The customer being served (scan screen, history, lost card). */
  customer = $state<CustomerPanel | null>(null);
  /**
   * A card scan is being looked up: the customer on screen is about to be replaced and
   * takes no sale. Not reactive on purpose (nothing on screen changes for it).
   */
  scanning = false;
  /** Bumped on every scan / pick of a customer (not on a refresh of the same one). */
  scanSeq = $state(0);
  /** Receipt handed to the return screen (a click on a sale in the history). */
  returnReceipt = $state('');
  /** Wall clock, updated every second (ages in the status bar). */
  now = $state(Date.now());
  /** The sale without a card is being entered (scan screen, no customer; F3). */
  noCard = $state(false);
  /**
   * The NPS question after the last receipt (card sale or sale without a card); null when
   * none is shown. It never takes the caret and goes away on the next scan.
   */
  nps = $state<NpsQuestion | null>(null);
  /** Errors that belong to no screen (locale switch, logout). */
  globalError = $state<AppError | null>(null);

  /** Hooks the mounted screens register for the global keys. */
  hooks: { spendMax?: () => void; clearScan?: () => void } = {};

  get isOwner(): boolean {
    return this.session?.role === 'owner';
  }
  get currency(): string {
    return this.info?.currency ?? 'RUB';
  }
  get pointValue(): number {
    return this.info?.point_value ?? 100;
  }

  setInfo(info: AppInfo): void {
    this.info = info;
    i18n.locale = info.locale;
    document.documentElement.lang = info.locale;
  }

  go(screen: Screen): void {
    if ((screen === 'history' || screen === 'reissue' || screen === 'merge') && !this.customer) return;
    if ((screen === 'owner' || screen === 'merge') && !this.isOwner) return;
    // The NPS question belongs right after the receipt: another screen ends it.
    if (screen !== this.screen) this.nps = null;
    this.screen = screen;
    if (screen === 'scan') focusScan();
  }

  /** A customer was scanned or picked: a new sale starts. */
  serve(c: CustomerPanel): void {
    this.customer = c;
    this.noCard = false;
    this.nps = null;
    this.scanSeq++;
  }

  /**
   * Re-reads the customer being served after a write (same card when it still works, else
   * the account's primary card, e.g. after a reissue). A customer scanned meanwhile wins.
   */
  async refreshCustomer(): Promise<void> {
    const c = this.customer;
    if (!c) return;
    const fresh = await api.scan(c.card).catch(() => api.customer(c.customer_id).catch(() => null));
    if (fresh && this.customer?.customer_id === c.customer_id) this.customer = fresh;
  }

  /** A receipt was shown: the customer may answer "would you recommend us?". */
  askNps(saleOpId: string): void {
    this.nps = new NpsQuestion(saleOpId);
  }

  /** F3: the sale without a card (only when no customer is being served). */
  sellWithoutCard(): void {
    if (this.customer) return;
    this.screen = 'scan';
    this.noCard = true;
    this.nps = null;
  }

  /** Esc on the scan screen: ready for the next customer. */
  clearCustomer(): void {
    this.customer = null;
    this.noCard = false;
    this.nps = null;
    this.scanSeq++;
    this.hooks.clearScan?.();
    focusScan();
  }

  signedOut(): void {
    this.session = null;
    this.customer = null;
    this.screen = 'scan';
    this.returnReceipt = '';
    this.noCard = false;
    this.nps = null;
  }
}

export const app = new AppState();

/** Puts the caret into the scan input (when it is on screen). */
export function focusScan(): void {
  queueMicrotask(() => {
    const el = document.getElementById('scan-input') as HTMLInputElement | null;
    el?.focus();
  });
}

/** Focuses an element by id after the DOM has updated. */
export function focusId(id: string, select = false): void {
  setTimeout(() => {
    const el = document.getElementById(id) as HTMLInputElement | null;
    el?.focus();
    if (select) el?.select?.();
  }, 0);
}

/** A field where typing goes: the refocus rule leaves these alone. */
export function isTextEntry(el: Element | null): boolean {
  if (!el) return false;
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLInputElement)
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'file', 'image'].includes(el.type);
  return (el as HTMLElement).isContentEditable === true;
}

/** Ends the session (F10 / the logout button); the login screen follows. */
export async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch (err) {
    app.globalError = toAppError(err);
  }
  app.signedOut();
}
