// Pure helpers of the owner's program settings screen: the integer settings (minor units,
// basis points, points, days) typed as money / percent / whole numbers, the core's field
// errors by field, the effective-from picker's local time, and the defaults of a section
// switched on. No floats reach a setting: percentages are parsed with string arithmetic.
import type { Basket, FieldError, ProgramConfig, Tier } from './types';
import { localeTag, minorToInput, parseMoney, parsePoints } from './money';

/** How a setting is typed: money (minor units), percent (basis points), points, a count. */
export type FieldKind = 'money' | 'bp' | 'points' | 'int';

/**
 * A non-negative percentage typed by a person, in basis points: `5` → 500, `7,5` → 750,
 * `0.25` → 25, `150` → 15000 (the core says it is over 100 %). `null` for anything else
 * (a sign, letters, more than 2 decimals).
 */
export function parsePercent(input: string): number | null {
  const s = input.replace(/[\s\u00a0\u202f%]/g, '');
  const m = /^(\d*)(?:[.,](\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (whole === '' && frac === '') return null;
  if (whole.replace(/^0+/, '').length > 9) return null;
  return Number(whole || '0') * 100 + Number(frac.padEnd(2, '0'));
}

/** Basis points as an editable percentage: 750 → `7.5` (`7,5` outside English). */
export function bpToInput(bp: number, locale: string): string {
  const sep = localeTag(locale).startsWith('en') ? '.' : ',';
  const whole = Math.trunc(bp / 100);
  const frac = String(bp % 100).padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}${sep}${frac}` : String(whole);
}

/** The value of a typed setting, `null` when it is not one. */
export function parseField(kind: FieldKind, input: string): number | null {
  switch (kind) {
    case 'money':
      return parseMoney(input);
    case 'bp':
      return parsePercent(input);
    default:
      return parsePoints(input);
  }
}

/** A setting as the text of its input. */
export function fieldToInput(kind: FieldKind, v: number, locale: string): string {
  switch (kind) {
    case 'money':
      return minorToInput(v, locale);
    case 'bp':
      return bpToInput(v, locale);
    default:
      return String(v);
  }
}

/** The core's field errors by field path (the first message of each). */
export function errorsByField(errors: readonly FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) if (!(e.field in out)) out[e.field] = e.message;
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A moment as the value of a `datetime-local` input, in this computer's time zone. */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (local time) as an ISO instant; `null` when empty or invalid. */
export function fromLocalInput(s: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(s)) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A difference with its sign: `+49`, `−3`, `0` (`fmt` formats the magnitude). */
export function signed(n: number, fmt: (v: number) => string = String): string {
  if (n > 0) return `+${fmt(n)}`;
  if (n < 0) return `\u2212${fmt(-n)}`;
  return fmt(0);
}

/** The sample check's basket: one line of `amount` minor units. */
export function sampleBasket(amount: number): Basket {
  return { lines: [{ sku: 'CHECK', category: null, qty: 1, amount }] };
}

/** What a section starts with when the owner switches it on. */
export const SECTION_DEFAULTS = {
  club: (): NonNullable<ProgramConfig['club']> => ({ fee: 100_000, period_days: 365, tier_code: null, discount_bp: 500 }),
  stamps: (): NonNullable<ProgramConfig['stamps']> => ({ every: 6, min_amount: 0, category: null, reward_points: 100 }),
  threshold_gift: (): NonNullable<ProgramConfig['threshold_gift']> => ({ min_amount: 500_000, bonus_points: 100, gift: null }),
  birthday: (): NonNullable<ProgramConfig['birthday']> => ({ days_before: 7, days_after: 7, bonus_points: 100, discount_bp: 0 }),
  referral: (): NonNullable<ProgramConfig['referral']> => ({ referrer_points: 100, referee_points: 100 }),
};

/** A new tier above the last one. */
export function nextTier(levels: readonly Tier[]): Tier {
  const last = levels[levels.length - 1];
  const n = levels.length + 1;
  return {
    code: `LEVEL${n}`,
    name: `Level ${n}`,
    threshold: last ? last.threshold * 2 || 1_000_000 : 0,
    earn_bp: null,
    discount_bp: 0,
  };
}

/** A new step of the cumulative ladder above the last one. */
export function nextStep(steps: ProgramConfig['cumulative']): ProgramConfig['cumulative'][number] {
  const last = steps[steps.length - 1];
  return { from_spend: last ? last.from_spend * 2 || 1_000_000 : 0, discount_bp: last ? last.discount_bp : 300 };
}

/** The rolling window in days, or `null` for lifetime. */
export function windowDays(w: ProgramConfig['tiers']['window']): number | null {
  return typeof w === 'object' && w !== null ? w.rolling_days : null;
}
