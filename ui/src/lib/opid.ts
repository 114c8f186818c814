/** A fresh operation id (UUID). */
export function newOpId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Idempotency of a confirm button: the same request (same key) gets the same op id until
 * it succeeds, so a retry or a double press never applies an operation twice; a changed
 * request gets a new id (the core refuses one id with two requests: OP_CONFLICT).
 */
export class OpIds {
  private key: string | null = null;
  private id = '';

  for(request: unknown): string {
    const key = JSON.stringify(request);
    if (key !== this.key) {
      this.key = key;
      this.id = newOpId();
    }
    return this.id;
  }

  /** The operation went through: the next one is new whatever it looks like. */
  done(): void {
    this.key = null;
  }
}
