// A small in-memory stand-in for the Rust core, used only outside Tauri (vite dev /
// preview in a browser) to develop and look at the UI. Not the rules: rough demo maths.
import type {
  AppError, AppInfo, CustomerPanel, History, QuoteView, Receipt, ReturnReceipt, SaleRecord, Session,
  SyncStatusView,
} from './types';

type Listener = (s: SyncStatusView) => void;
const listeners = new Set<Listener>();
const fail = (code: string, message: string): never => {
  throw { code, message } satisfies AppError;
};
const iso = (ms = Date.now()) => new Date(ms).toISOString();
const DAY = 86_400_000;

const info: AppInfo = {
  configured: false, till_id: null, store_id: null, store_name: null, server_url: null, locale: 'ru',
  currency: 'RUB', point_value: 100, offline_spend_limit: 500, data_dir: '/tmp/mock',
  setup_defaults: { server_url: 'http://127.0.0.1:8080', device_token: 'demo-token', owner_pin: '1111', cashier_pin: '2222' },
};
const status: SyncStatusView = {
  online: true, pending: 0, last_sync_at: null, last_error: null, bootstrap: null, till_id: 'T01',
  store_name: 'Demo store', shortfalls: 0, conflicts: 0,
};
let session: Session | null = null;
let wrong = 0;
let receiptSeq = 0;
const ops = new Map<string, unknown>();

type Mock = { panel: CustomerPanel; history: History };
const customers: Mock[] = [];

function addCustomer(name: string, phone: string | null, card: string, points: number, birthdayToday = false): Mock {
  const id = customers.length + 1;
  const panel: CustomerPanel = {
    customer_id: id, account_id: id, name, phone, email: null, card,
    cards: [{ number: card, family: false, status: 'active', replaced_by: null, issued_at: iso() }],
    tier: { code: 'base', name: 'Base', earn_bp: 500, discount_bp: 0, source: 'earned' },
    balance: { available: points, pending: 0, shortfall: 0, expiring_soon: points ? 40 : 0, next_expiry: points ? iso(Date.now() + 20 * DAY) : null },
    lifetime_spend: 1_234_500, lifetime_purchases: 7, stamps: 2, club_until: null, birthday_window: birthdayToday,
    birthday: birthdayToday ? iso().slice(0, 10) : null, offer: id === 1 ? { kind: 'expiring_points', text: `40 points expire on ${iso(Date.now() + 20 * DAY).slice(0, 10)}: suggest spending them today`, figures: [40] } : null,
    marketing_consent: true, preferred_channel: 'sms',
  };
  const history: History = {
    customer: {
      id, uid: `uid-${id}`, name, phone, email: null, birthday: panel.birthday, gender: null, age_group: null, home_store: null,
      preferred_channel: 'sms', marketing_consent: true, consent_at: null, tags: [], referrer_id: null, enrolled_at: iso(),
      enrolled_store: 'S1', enrolled_till: 'T01',
    },
    account_id: id, shortfall: 0, sales: [], ledger: [], lots: [], adjustments: [],
  };
  if (points) {
    history.ledger.push({ id: 1, at: iso(Date.now() - 30 * DAY), kind: 'welcome', points, balance: points, reason: 'welcome bonus', op_id: 'x' });
    history.lots.push({ id: 1, kind: 'welcome', earned_at: iso(Date.now() - 30 * DAY), available_at: iso(Date.now() - 30 * DAY), expires_at: iso(Date.now() + 20 * DAY), original: points, remaining: points, expired: 0 });
  }
  const m = { panel, history };
  customers.push(m);
  return m;
}
addCustomer('Анна Петрова', '+79161234567', '2000100000014', 1250, true);
addCustomer('Борис Иванов', '+79031112233', '2000100000021', 0);

function emit() {
  for (const l of listeners) l({ ...status });
}
const byCard = (card: string) => customers.find((c) => c.panel.cards.some((k) => k.number === card));

function quote(card: string, amount: number, spend: number): QuoteView {
  const c = byCard(card) ?? fail('UNKNOWN_CARD', `no card ${card}`);
  const p = c.panel;
  const bp = p.birthday_window ? 1000 : 300;
  const discount = Math.floor((amount * bp) / 10000);
  const after = amount - discount;
  const max = Math.min(p.balance.available, Math.floor(Math.floor((after * 3000) / 10000) / 100));
  if (spend > p.balance.available) fail('INSUFFICIENT_POINTS', `available ${p.balance.available}, requested ${spend}`);
  if (spend > max) fail('SPEND_OVER_CAP', `at most ${max} points on this check`);
  const toPay = after - spend * 100;
  const earn = Math.floor((toPay * 500) / 1_000_000);
  const kind = p.birthday_window ? 'birthday' : 'cumulative';
  return {
    quote: {
      program_version: 1, subtotal: amount, tier: p.tier,
      discounts: [{ kind, reason: p.birthday_window ? 'birthday discount 10%' : 'cumulative discount 3% (lifetime spend from 0.00)', bp, amount: discount }],
      discount_total: discount, after_discounts: after, max_redeemable: max, points_spent: spend, spend_value: spend * 100,
      to_pay: toPay, earn: earn ? [{ kind: 'purchase', reason: 'purchase 5% of paid', points: earn }] : [], earn_total: earn,
      referrer_points: 0, available_at: iso(Date.now() + 14 * DAY), expires_at: iso(Date.now() + 365 * DAY),
      stamps_after: p.stamps + 1, gift: null, birthday_today: p.birthday_window, birthday_bonus_year: null,
    },
    available: p.balance.available, spend_limit: status.online ? p.balance.available : Math.min(p.balance.available, 500), offline: !status.online,
  };
}

function once<T>(opId: string, f: () => T): T {
  if (ops.has(opId)) return ops.get(opId) as T;
  const r = f();
  ops.set(opId, r);
  status.pending++;
  emit();
  return r;
}

const handlers: Record<string, (a: any) => unknown> = {
  app_info: () => ({ ...info }),
  setup: ({ req }) => {
    Object.assign(info, { configured: true, till_id: 'T01', store_id: 'S1', store_name: 'Demo store', server_url: req.server_url });
    let n = 0;
    const timer = setInterval(() => {
      n += 250;
      status.bootstrap = n < 1000 ? [n, 1000] : null;
      if (!status.bootstrap) { status.last_sync_at = iso(); clearInterval(timer); }
      emit();
    }, 300);
    return { ...info };
  },
  status: () => ({ ...status }),
  login: ({ pin }) => {
    if (wrong >= 5) fail('PIN_LOCKED', `locked until ${iso(Date.now() + 300_000)}`);
    if (pin === '1111') session = { name: 'Owner', role: 'owner' };
    else if (pin === '2222') session = { name: 'Cashier', role: 'cashier' };
    else fail('PIN_WRONG', `wrong PIN, ${5 - ++wrong} tries left`);
    wrong = 0;
    return session;
  },
  logout: () => ((session = null), null),
  session: () => session,
  scan: ({ input }) => {
    const digits = String(input).replace(/\D/g, '');
    const c = customers.find((m) => m.panel.cards.some((k) => k.number === digits) || (m.panel.phone ?? '').endsWith(digits.slice(-10)));
    if (!c) fail('UNKNOWN_CARD', `no card or phone ${input}`);
    const k = c!.panel.cards.find((x) => x.number === digits);
    if (k?.status === 'blocked') fail('CARD_BLOCKED', `card ${digits} is blocked; replaced by ${k.replaced_by}`);
    return { ...c!.panel, card: k ? digits : c!.panel.card };
  },
  search: ({ query }) =>
    customers.filter((c) => c.panel.name.toLowerCase().startsWith(String(query).toLowerCase()))
      .map((c) => ({ customer_id: c.panel.customer_id, account_id: c.panel.account_id, name: c.panel.name, phone: c.panel.phone })),
  customer: ({ id }) => ({ ...(customers[id - 1] ?? fail('NOT_FOUND', `no customer ${id}`)).panel }),
  quote: ({ req }) => quote(req.card, req.basket.lines.reduce((s: number, l: { amount: number }) => s + l.amount, 0), req.spend),
  checkout: ({ req }) => once(req.op_id, (): Receipt => {
    const q = quote(req.card, req.basket.lines.reduce((s: number, l: { amount: number }) => s + l.amount, 0), req.spend).quote;
    const c = byCard(req.card)!;
    const no = `T01-${String(++receiptSeq).padStart(6, '0')}`;
    c.panel.balance.available -= q.points_spent;
    c.panel.balance.pending += q.earn_total;
    const sale: SaleRecord = { sale_id: receiptSeq, receipt_no: no, card: req.card, sold_at: iso(), subtotal: q.subtotal, discount_total: q.discount_total,
      to_pay: q.to_pay, points_spent: q.points_spent, earned: q.earn_total, returned_amount: 0,
      lines: req.basket.lines.map((l: { sku: string; qty: number; amount: number }) => [l.sku, l.qty, l.amount, 0]), returns: [] };
    c.history.sales.push(sale);
    const bal = c.panel.balance.available + c.panel.balance.pending;
    c.history.ledger.push({ id: c.history.ledger.length + 1, at: iso(), kind: 'sale', points: q.earn_total - q.points_spent, balance: bal, reason: `sale ${no}`, op_id: req.op_id });
    return { receipt_no: no, sale_id: receiptSeq, account_id: c.panel.account_id, card: req.card, sold_at: sale.sold_at, program_version: 1, subtotal: q.subtotal,
      discount_total: q.discount_total, after_discounts: q.after_discounts, points_spent: q.points_spent, spend_value: q.spend_value, to_pay: q.to_pay,
      earned: q.earn_total, settled_shortfall: 0, referrer_points: 0, available_at: q.available_at, expires_at: q.expires_at, stamps_after: q.stamps_after, gift: null, tier_code: 'base' };
  }),
  find_sale: ({ receipt }) => {
    for (const c of customers) {
      const sale = c.history.sales.find((s) => s.receipt_no === String(receipt).trim());
      if (sale) return { customer_id: c.panel.customer_id, customer_name: c.panel.name, sale };
    }
    return fail('UNKNOWN_RECEIPT', `no receipt ${receipt}`);
  },
  return_sale: ({ req }) => once(req.op_id, (): ReturnReceipt => {
    const { sale } = handlers.find_sale({ receipt: req.receipt_no }) as { sale: SaleRecord };
    const left = sale.subtotal - sale.returned_amount;
    let amount = req.items === 'All' ? left : 'Amount' in req.items ? req.items.Amount : 0;
    if (typeof req.items === 'object' && 'Lines' in req.items)
      for (const l of req.items.Lines) { const line = sale.lines.find((x) => x[0] === l.sku)!; amount += Math.floor((line[2] * l.qty) / line[1]); line[3] += l.qty; }
    if (amount > left || amount <= 0) fail('RETURN_EXCEEDS_SALE', `at most ${left} can be returned`);
    const share = (p: number) => Math.floor((p * (sale.returned_amount + amount)) / sale.subtotal) - Math.floor((p * sale.returned_amount) / sale.subtotal);
    const r = { return_id: Date.now(), receipt_no: sale.receipt_no, amount, refund: Math.floor((sale.to_pay * amount) / sale.subtotal),
      earned_taken: share(sale.earned), shortfall_added: 0, spent_restored: share(sale.points_spent), fully_returned: sale.returned_amount + amount >= sale.subtotal };
    sale.returned_amount += amount;
    sale.returns.push({ return_id: r.return_id, returned_at: iso(), amount, refund: r.refund, earned_taken: r.earned_taken, shortfall: 0, spent_restored: r.spent_restored });
    return r;
  }),
  enrol: ({ req }) => once(req.op_id, () => {
    const card = `20001000${String(customers.length + 1).padStart(4, '0')}${customers.length % 10}`;
    const c = addCustomer(req.name, req.phone, card, 100);
    return { customer_id: c.panel.customer_id, account_id: c.panel.account_id, card, welcome_points: 100, virtual_card: vcard(card) };
  }),
  virtual_card: ({ card }) => vcard(card),
  reissue_card: ({ req }) => once(req.op_id, () => {
    const c = byCard(req.card) ?? fail('UNKNOWN_CARD', 'no such card');
    const k = c.panel.cards.find((x) => x.number === req.card)!;
    if (k.status === 'blocked') fail('CARD_BLOCKED', 'already blocked');
    const fresh = `2000200${String(Date.now()).slice(-6)}`;
    k.status = 'blocked';
    k.replaced_by = fresh;
    c.panel.cards.push({ number: fresh, family: k.family, status: 'active', replaced_by: null, issued_at: iso() });
    if (c.panel.card === req.card) c.panel.card = fresh;
    return { old_card: req.card, new_card: fresh };
  }),
  history: ({ id }) => (customers[id - 1] ?? fail('NOT_FOUND', `no customer ${id}`)).history,
  adjust: ({ req }) => once(req.op_id, () => {
    if (session?.role !== 'owner') fail('FORBIDDEN', 'owner only');
    const c = customers[req.customer_id - 1];
    c.panel.balance.available += req.points;
    c.history.adjustments.push({ id: c.history.adjustments.length + 1, at: iso(), points: req.points, reason: req.reason, author: session!.name });
    c.history.ledger.push({ id: c.history.ledger.length + 1, at: iso(), kind: 'adjust', points: req.points, balance: c.panel.balance.available + c.panel.balance.pending, reason: req.reason, op_id: req.op_id });
    return { adjustment_id: c.history.adjustments.length, account_id: c.panel.account_id, points: req.points, settled_shortfall: 0 };
  }),
  set_locale: ({ locale }) => ((info.locale = locale), null),
};

const vcard = (card: string) => ({ card, qr_payload: `LC1.${card}.sig`, qr_svg: fakeQr(card), expires_at: iso(Date.now() + 30 * DAY) });

function fakeQr(seed: string): string {
  let cells = '';
  let h = 7;
  for (let y = 0; y < 21; y++)
    for (let x = 0; x < 21; x++) {
      h = (h * 31 + seed.charCodeAt((x + y) % seed.length)) % 1009;
      if (h % 2 || (x < 7 && y < 7) || (x > 13 && y < 7) || (x < 7 && y > 13)) cells += `<rect x="${x}" y="${y}" width="1" height="1"/>`;
    }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 23 23"><rect x="-1" y="-1" width="23" height="23" fill="#fff"/><g fill="#000">${cells}</g></svg>`;
}

export async function mockInvoke(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 15));
  const h = handlers[cmd] ?? fail('UNKNOWN_COMMAND', cmd);
  return structuredClone(h(args));
}

export function mockListen(cb: Listener): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

// ?offline in the address simulates a network outage.
if (typeof location !== 'undefined' && location.search.includes('offline')) status.online = false;
