import type { AppError } from './types';

/** Whatever an `invoke` rejected with, as an `AppError {code, message}`. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'code' in e) {
    const o = e as { code: unknown; message?: unknown };
    return { code: String(o.code), message: o.message == null ? '' : String(o.message) };
  }
  if (typeof e === 'string') {
    // A command that failed before reaching the core (bad arguments, missing command).
    try {
      return toAppError(JSON.parse(e));
    } catch {
      return { code: 'IPC', message: e };
    }
  }
  if (e instanceof Error) return { code: 'UI', message: e.message };
  return { code: 'UI', message: String(e) };
}

/** The banner text: `CODE — message`. */
export function errorText(e: AppError): string {
  return e.message ? `${e.code} — ${e.message}` : e.code;
}

/** A local (UI-side) validation error in the same shape as the core's. */
export function localError(code: string, message: string): AppError {
  return { code, message };
}
