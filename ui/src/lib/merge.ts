// The owner's merge of duplicate customers: the pure parts of the screen (what a typed
// query means, the reason's limits, what the confirmation says moves).
import type { MergePreview, MergeSide } from './types';

/** Longest reason the server takes (characters), as `loyalty_wire::MERGE_TEXT_MAX`. */
export const MERGE_REASON_MAX = 200;

/** A name search: has letters and is not a virtual-card QR payload (else a card or phone scan). */
export function isNameQuery(s: string): boolean {
  const q = s.trim();
  return !q.startsWith('LC1.') && /\p{L}/u.test(q);
}

/** What is wrong with a reason, if anything (counted in characters, not UTF-16 units). */
export function reasonProblem(reason: string): 'required' | 'tooLong' | null {
  const n = [...reason.trim()].length;
  if (n === 0) return 'required';
  if (n > MERGE_REASON_MAX) return 'tooLong';
  return null;
}

/** The pair the owner chose: `survivor` stays, `duplicate` goes into it. */
export interface MergePair {
  survivor: number;
  duplicate: number | null;
}

/** The other one stays. Without a duplicate yet there is nothing to swap. */
export function swap(p: MergePair): MergePair {
  return p.duplicate == null ? p : { survivor: p.duplicate, duplicate: p.survivor };
}

/** The customer found becomes the duplicate; finding the survivor again is refused. */
export function withFound(p: MergePair, customerId: number): MergePair | 'same' {
  return customerId === p.survivor ? 'same' : { survivor: p.survivor, duplicate: customerId };
}

/** What moves, for the confirmation: the duplicate's cards that are still in use and all its points. */
export interface MergeSummary {
  stays: string;
  goes: string;
  points: number;
  cards: string[];
  pointsAfter: number;
  cardsAfter: number;
}

const activeCards = (s: MergeSide) => s.cards.filter((c) => c.status === 'active').map((c) => c.number);

/** A customer as the confirmation names them: duplicates often share the name, so the card and phone too. */
export function label(s: MergeSide): string {
  return [s.name, s.card, s.phone].filter(Boolean).join(' · ');
}

export function summary(p: MergePreview): MergeSummary {
  return {
    stays: label(p.survivor),
    goes: label(p.duplicate),
    points: p.duplicate.net_points,
    cards: activeCards(p.duplicate),
    pointsAfter: p.points_after,
    cardsAfter: p.cards_after,
  };
}
