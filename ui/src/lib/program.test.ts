import { describe, expect, it } from 'vitest';
import {
  bpToInput, errorsByField, fieldToInput, fromLocalInput, nextStep, nextTier, parseField, parsePercent, sampleBasket, signed,
  toLocalInput, windowDays,
} from './program';

describe('parsePercent', () => {
  it('reads percentages as basis points', () => {
    expect(parsePercent('5')).toBe(500);
    expect(parsePercent('7,5')).toBe(750);
    expect(parsePercent('7.25 %')).toBe(725);
    expect(parsePercent('0.01')).toBe(1);
    expect(parsePercent(',5')).toBe(50);
    expect(parsePercent('150')).toBe(15_000);
    expect(parsePercent('0')).toBe(0);
  });
  it('refuses what is not a percentage', () => {
    for (const s of ['', '-5', 'abc', '1.234', '1,2,3', '.', '1e3', '9999999999']) expect(parsePercent(s), s).toBeNull();
  });
  it('round-trips with bpToInput', () => {
    for (const bp of [0, 1, 10, 25, 500, 750, 1_025, 10_000]) {
      expect(parsePercent(bpToInput(bp, 'en'))).toBe(bp);
      expect(parsePercent(bpToInput(bp, 'ru'))).toBe(bp);
    }
    expect(bpToInput(750, 'en')).toBe('7.5');
    expect(bpToInput(725, 'ru')).toBe('7,25');
    expect(bpToInput(1_000, 'en')).toBe('10');
  });
});

describe('fields', () => {
  it('parse and show each kind', () => {
    expect(parseField('money', '12,50')).toBe(1_250);
    expect(parseField('bp', '3')).toBe(300);
    expect(parseField('points', '1 200')).toBe(1_200);
    expect(parseField('int', '-1')).toBeNull();
    expect(fieldToInput('money', 1_250, 'en')).toBe('12.50');
    expect(fieldToInput('bp', 300, 'bg')).toBe('3');
    expect(fieldToInput('int', 14, 'en')).toBe('14');
  });
  it('keeps the first core error of each field', () => {
    const e = errorsByField([
      { field: 'earn.rate_bp', code: 'INVALID_CONFIG', message: 'too high' },
      { field: 'earn.rate_bp', code: 'INVALID_CONFIG', message: 'second' },
      { field: 'hold_days', code: 'INVALID_CONFIG', message: 'too long' },
    ]);
    expect(e).toEqual({ 'earn.rate_bp': 'too high', hold_days: 'too long' });
  });
});

describe('effective from', () => {
  it('round-trips local time', () => {
    const d = new Date(2026, 2, 10, 9, 5);
    const s = toLocalInput(d);
    expect(s).toBe('2026-03-10T09:05');
    expect(fromLocalInput(s)).toBe(d.toISOString());
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('2026-13-40T99:99')).toBeNull();
  });
});

describe('misc', () => {
  it('signs differences', () => {
    expect(signed(49)).toBe('+49');
    expect(signed(-3)).toBe('\u22123');
    expect(signed(0)).toBe('0');
    expect(signed(-250, (v) => `${v / 100}`)).toBe('\u22122.5');
  });
  it('builds the sample basket and new rows', () => {
    expect(sampleBasket(100_000).lines[0]).toMatchObject({ qty: 1, amount: 100_000 });
    expect(nextTier([]).threshold).toBe(0);
    expect(nextTier([{ code: 'A', name: 'A', threshold: 500, earn_bp: null, discount_bp: 0 }]).threshold).toBe(1_000);
    expect(nextStep([]).from_spend).toBe(0);
    expect(nextStep([{ from_spend: 0, discount_bp: 300 }]).from_spend).toBe(1_000_000);
    expect(windowDays('lifetime')).toBeNull();
    expect(windowDays({ rolling_days: 365 })).toBe(365);
  });
});
