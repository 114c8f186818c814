import { describe, expect, it } from 'vitest';
import { NPS_SCORES, NpsQuestion, isCardScan } from './nps';

describe('NPS_SCORES', () => {
  it('is 0 … 10', () => {
    expect(NPS_SCORES).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('isCardScan', () => {
  it('takes card numbers and QR payloads as scans, amounts as amounts', () => {
    expect(isCardScan('2136900000012')).toBe(true);
    expect(isCardScan(' 213690000001 ')).toBe(true);
    expect(isCardScan('21369000000123')).toBe(true);
    expect(isCardScan('LC1.abc.def')).toBe(true);
    expect(isCardScan('250')).toBe(false);
    expect(isCardScan('12,50')).toBe(false);
    expect(isCardScan('12345678901')).toBe(false); // 11 digits: an amount (a big one)
    expect(isCardScan('213690000001234')).toBe(false);
    expect(isCardScan('')).toBe(false);
  });
});

describe('NpsQuestion', () => {
  it('sends one answer, with the sale, the same id on a retry', () => {
    const q = new NpsQuestion('op-1');
    const a = q.answer(9);
    expect(a).toMatchObject({ sale_op_id: 'op-1', score: 9 });
    expect(a!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(q.answer(9)!.id).toBe(a!.id); // a double tap or a retry after an error
    const b = q.answer(7); // another score after a failed tap: another answer
    expect(b!.id).not.toBe(a!.id);
    q.done();
    expect(q.answer(7)).toBeNull(); // answered: nothing more
    expect(q.answered).toBe(true);
  });

  it('refuses scores outside 0 … 10 and works without a sale', () => {
    const q = new NpsQuestion(null);
    expect(q.answer(-1)).toBeNull();
    expect(q.answer(11)).toBeNull();
    expect(q.answer(2.5)).toBeNull();
    expect(q.answer(0)).toMatchObject({ sale_op_id: null, score: 0 });
    expect(q.answer(10)).toMatchObject({ score: 10 });
  });
});
