// Forms whose content must survive leaving the screen (Esc, a function key) until they
// are submitted successfully.
import type { Channel } from './types';

export function emptyEnrol() {
  return {
    name: '',
    phone: '',
    email: '',
    birthday: '',
    consent: false,
    channel: 'sms' as Channel,
    referrer: '',
  };
}

export const drafts = $state({ enrol: emptyEnrol(), reissueReason: '' });

/** `YYYY-MM-DD` from `YYYY-MM-DD`, `DD.MM.YYYY` or `DD/MM/YYYY`; null when not a real date. */
export function parseBirthday(s: string): string | null {
  const v = s.trim();
  let y: number, m: number, d: number;
  let r = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v);
  if (r) [y, m, d] = [Number(r[1]), Number(r[2]), Number(r[3])];
  else if ((r = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(v))) [d, m, y] = [Number(r[1]), Number(r[2]), Number(r[3])];
  else return null;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  if (y < 1900 || dt.getTime() > Date.now()) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
