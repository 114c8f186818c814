// The sale without a card and the NPS question after a receipt: the small rules the
// screens share (kept here, out of the components, so that they are unit-tested).
import { OpIds } from './opid';
import type { NpsInput } from './types';

/** The answers of "would you recommend us?": 0 … 10. */
export const NPS_SCORES: readonly number[] = Array.from({ length: 11 }, (_, i) => i);

/**
 * What a keyboard-wedge scanner types into a money field when the next customer's card is
 * scanned there: a card number (12-14 digits) or a virtual-card QR payload (`LC1.`). Such
 * text is a scan, never an amount.
 */
export function isCardScan(text: string): boolean {
  const v = text.trim();
  return /^\d{12,14}$/.test(v) || v.startsWith('LC1.');
}

/**
 * The NPS question after one sale: one answer at most. The answer's id follows the rule of
 * every write ([`OpIds`]): a retried tap on the same score (a double tap, a retry after an
 * error) reuses the id, so the core keeps it once (`nps_answer` is idempotent on the id); a
 * tap on another score after a failed one is a new answer with a new id.
 */
export class NpsQuestion {
  private readonly ids = new OpIds();
  /** The answer went through: nothing more is sent for this sale. */
  answered = false;

  constructor(readonly saleOpId: string | null) {}

  /** The request for a tap on `score`; null when there is nothing to send. */
  answer(score: number): NpsInput | null {
    if (this.answered || !Number.isInteger(score) || score < 0 || score > 10) return null;
    return { id: this.ids.for({ sale: this.saleOpId, score }), sale_op_id: this.saleOpId, score };
  }

  /** The core recorded the answer. */
  done(): void {
    this.answered = true;
    this.ids.done();
  }
}
