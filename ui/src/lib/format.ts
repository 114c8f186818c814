// Display formatting bound to the current language and the program currency.
import { app } from './app.svelte';
import { i18n, t } from './i18n/index.svelte';
import { formatBp, formatMoney, formatPoints, localeTag } from './money';

export const money = (minor: number): string => formatMoney(minor, app.currency, i18n.locale);
export const pts = (points: number): string => formatPoints(points, i18n.locale);
export const pct = (bp: number): string => formatBp(bp, i18n.locale);

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Placeholder of a money input in the current language: `0.00` / `0,00`. */
export const moneyPlaceholder = (): string => (i18n.locale === 'en' ? '0.00' : '0,00');

/** `12 Mar 2026` (a plain `YYYY-MM-DD` date is shown as that calendar day). */
export function date(iso: string | null | undefined): string {
  if (iso && /^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    const d = parse(`${iso}T00:00:00Z`);
    return d ? d.toLocaleDateString(localeTag(i18n.locale), { dateStyle: 'medium', timeZone: 'UTC' }) : iso;
  }
  const d = parse(iso);
  return d ? d.toLocaleDateString(localeTag(i18n.locale), { dateStyle: 'medium' }) : '—';
}

/** A birthday without the year: `12 Mar`. */
export function dayMonth(iso: string | null | undefined): string {
  const d = iso && /^\d{4}-\d{2}-\d{2}/.test(iso) ? parse(`${iso.slice(0, 10)}T00:00:00Z`) : null;
  return d ? d.toLocaleDateString(localeTag(i18n.locale), { day: 'numeric', month: 'long', timeZone: 'UTC' }) : '—';
}

export function dateTime(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? d.toLocaleString(localeTag(i18n.locale), { dateStyle: 'short', timeStyle: 'short' }) : '—';
}

/** How long ago: `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; `never` without a date. */
export function ago(iso: string | null | undefined, now: number): string {
  const d = parse(iso);
  if (!d) return t('time.never');
  const s = Math.max(0, Math.floor((now - d.getTime()) / 1000));
  if (s < 60) return t('time.sAgo', { n: s });
  if (s < 3600) return t('time.minAgo', { n: Math.floor(s / 60) });
  if (s < 86400) return t('time.hAgo', { n: Math.floor(s / 3600) });
  return t('time.dAgo', { n: Math.floor(s / 86400) });
}
