import { describe, expect, it } from 'vitest';
import { isNameQuery, label, MERGE_REASON_MAX, reasonProblem, summary, swap, withFound } from './merge';
import type { MergePreview, MergeSide } from './types';

function side(id: number, name: string, net: number, cards: [string, 'active' | 'blocked'][]): MergeSide {
  return {
    customer_id: id,
    account_id: id * 10,
    name,
    phone: null,
    email: null,
    card: cards[0][0],
    cards: cards.map(([number, status]) => ({ number, family: false, status, replaced_by: null, issued_at: '2026-01-01T00:00:00Z' })),
    balance: { available: net, pending: 0, shortfall: 0, expiring_soon: 0, next_expiry: null },
    net_points: net,
    lifetime_spend: 0,
    lifetime_purchases: 0,
    enrolled_at: '2026-01-01T00:00:00Z',
    enrolled_store: 'S1',
  };
}

describe('merge', () => {
  it('tells a name from a card, a phone or a QR payload', () => {
    expect(isNameQuery('Anna')).toBe(true);
    expect(isNameQuery('  Анна ')).toBe(true);
    expect(isNameQuery('2000100000014')).toBe(false);
    expect(isNameQuery('+7 916 123-45-67')).toBe(false);
    expect(isNameQuery('LC1.abcDEF')).toBe(false);
    expect(isNameQuery('   ')).toBe(false);
  });

  it('checks the reason in characters', () => {
    expect(reasonProblem('  ')).toBe('required');
    expect(reasonProblem(' enrolled twice ')).toBeNull();
    expect(reasonProblem('я'.repeat(MERGE_REASON_MAX))).toBeNull();
    expect(reasonProblem('😀'.repeat(MERGE_REASON_MAX))).toBeNull(); // 400 UTF-16 units
    expect(reasonProblem('x'.repeat(MERGE_REASON_MAX + 1))).toBe('tooLong');
  });

  it('swaps which one stays and refuses the survivor as its own duplicate', () => {
    expect(swap({ survivor: 1, duplicate: 2 })).toEqual({ survivor: 2, duplicate: 1 });
    expect(swap({ survivor: 1, duplicate: null })).toEqual({ survivor: 1, duplicate: null });
    expect(withFound({ survivor: 1, duplicate: null }, 1)).toBe('same');
    expect(withFound({ survivor: 1, duplicate: 5 }, 7)).toEqual({ survivor: 1, duplicate: 7 });
  });

  it('names a customer by card and phone too (duplicates share the name)', () => {
    const s = side(1, 'Nina Orlova', 0, [['2288900000025', 'active']]);
    expect(label(s)).toBe('Nina Orlova · 2288900000025');
    s.phone = '+79167000001';
    expect(label(s)).toBe('Nina Orlova · 2288900000025 · +79167000001');
  });

  it('says what moves: every point and the cards still in use', () => {
    const p: MergePreview = {
      survivor: side(1, 'Anna', 300, [['2000100000014', 'active']]),
      duplicate: side(2, 'Anna S.', 120, [['2000100000021', 'blocked'], ['2000100000038', 'active']]),
      points_after: 420,
      cards_after: 3,
    };
    p.survivor.phone = '+79161234567';
    expect(summary(p)).toEqual({
      stays: 'Anna · 2000100000014 · +79161234567',
      goes: 'Anna S. · 2000100000021',
      points: 120,
      cards: ['2000100000038'],
      pointsAfter: 420,
      cardsAfter: 3,
    });
  });
});
