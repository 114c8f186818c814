// Money is an integer of minor units everywhere; floats only appear inside display
// formatting. User input is parsed with string arithmetic.

const LOCALE_TAGS: Record<string, string> = { en: 'en-GB', ru: 'ru-RU', bg: 'bg-BG' };

export function localeTag(locale: string): string {
  return LOCALE_TAGS[locale] ?? locale;
}

const fmtCache = new Map<string, Intl.NumberFormat>();
function fmt(key: string, make: () => Intl.NumberFormat): Intl.NumberFormat {
  let f = fmtCache.get(key);
  if (!f) {
    f = make();
    fmtCache.set(key, f);
  }
  return f;
}

/** `1250` RUB in `ru` → `12,50 ₽`. */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const tag = localeTag(locale);
  let f: Intl.NumberFormat;
  try {
    f = fmt(`m|${tag}|${currency}`, () => new Intl.NumberFormat(tag, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }));
  } catch {
    f = fmt(`m|${tag}|`, () => new Intl.NumberFormat(tag, { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  }
  return f.format(minor / 100);
}

/** Whole points with the locale's grouping: `12 345`. */
export function formatPoints(points: number, locale: string): string {
  const tag = localeTag(locale);
  return fmt(`p|${tag}`, () => new Intl.NumberFormat(tag, { maximumFractionDigits: 0 })).format(points);
}

/** Basis points as a percentage: `750` → `7.5 %` (integer maths). */
export function formatBp(bp: number, locale: string): string {
  const whole = Math.trunc(bp / 100);
  const frac = Math.abs(bp % 100);
  const sep = localeTag(locale).startsWith('en') ? '.' : ',';
  const f = frac === 0 ? '' : sep + String(frac).padStart(2, '0').replace(/0$/, '');
  return `${whole}${f} %`;
}

const SPACES = /[\s\u00a0\u202f\u2009']/g;

/**
 * Parses a non-negative money amount typed by a person into minor units:
 * `12` → 1200, `12,5` → 1250, `12.50` → 1250, `1 250,00` → 125000, `,5` → 50.
 * Returns `null` for anything else (letters, a sign, more than 2 decimals, two separators).
 */
export function parseMoney(input: string): number | null {
  const s = input.replace(SPACES, '');
  const m = /^(\d*)(?:[.,](\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (whole === '' && frac === '') return null;
  const digits = (whole.replace(/^0+/, '') + frac.padEnd(2, '0')).replace(/^0+/, '');
  if (digits.length > 15) return null;
  const v = digits === '' ? 0 : Number(digits);
  return Number.isSafeInteger(v) ? v : null;
}

/** Minor units back to an editable string (`1250` → `12.50`), no grouping. */
export function minorToInput(minor: number, locale: string): string {
  const sign = minor < 0 ? '-' : '';
  const a = Math.abs(minor);
  const sep = localeTag(locale).startsWith('en') ? '.' : ',';
  return `${sign}${Math.trunc(a / 100)}${sep}${String(a % 100).padStart(2, '0')}`;
}

/** Whole points typed by a person (`1 200` → 1200); `allowSign` accepts `+`/`-`. */
export function parsePoints(input: string, allowSign = false): number | null {
  const s = input.replace(SPACES, '').replace(/\u2212/g, '-');
  const re = allowSign ? /^[+-]?\d+$/ : /^\d+$/;
  if (!re.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/** Value of points in minor units (integer). */
export function pointsValue(points: number, pointValue: number): number {
  return points * pointValue;
}
