import type { Locale } from '../types';
import { en, type Key } from './en';
import { ru } from './ru';
import { bg } from './bg';

export type { Key };

const dicts: Record<Locale, Record<Key, string>> = { en, ru, bg };

export const i18n = $state<{ locale: Locale }>({ locale: 'en' });

/** The UI string `key` in the current language; `{name}` placeholders from `params`. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const s = dicts[i18n.locale]?.[key] ?? en[key];
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}
