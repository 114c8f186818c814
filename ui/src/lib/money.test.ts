import { describe, expect, it } from 'vitest';
import { formatBp, minorToInput, parseMoney, parsePoints } from './money';

describe('parseMoney', () => {
  it('parses the usual forms into minor units', () => {
    expect(parseMoney('12')).toBe(1200);
    expect(parseMoney('12,5')).toBe(1250);
    expect(parseMoney('12.50')).toBe(1250);
    expect(parseMoney('12.')).toBe(1200);
    expect(parseMoney(',5')).toBe(50);
    expect(parseMoney('0,05')).toBe(5);
    expect(parseMoney('0')).toBe(0);
    expect(parseMoney('1 250,00')).toBe(125000);
    expect(parseMoney('1\u00a0250.99')).toBe(125099);
    expect(parseMoney('007.10')).toBe(710);
    expect(parseMoney('0.1')).toBe(10);
    expect(parseMoney('0.29')).toBe(29); // no float error: 0.29 * 100 = 28.999...
    expect(parseMoney('1234567890123.45')).toBe(123456789012345);
  });
  it('refuses the rest', () => {
    for (const s of ['', ' ', '.', 'abc', '-1', '+1', '1.234', '1,2,3', '1.2.3', '12a', '1e3', '99999999999999999'])
      expect(parseMoney(s), s).toBeNull();
  });
});

describe('parsePoints', () => {
  it('whole points, signed on request', () => {
    expect(parsePoints('120')).toBe(120);
    expect(parsePoints('1 200')).toBe(1200);
    expect(parsePoints('-5')).toBeNull();
    expect(parsePoints('-5', true)).toBe(-5);
    expect(parsePoints('+5', true)).toBe(5);
    expect(parsePoints('\u22125', true)).toBe(-5);
    expect(parsePoints('1.5', true)).toBeNull();
    expect(parsePoints('')).toBeNull();
  });
});

describe('display helpers', () => {
  it('formats basis points and editable amounts exactly', () => {
    expect(formatBp(500, 'en')).toBe('5 %');
    expect(formatBp(750, 'en')).toBe('7.5 %');
    expect(formatBp(1025, 'ru')).toBe('10,25 %');
    expect(minorToInput(1250, 'en')).toBe('12.50');
    expect(minorToInput(5, 'ru')).toBe('0,05');
  });
});

describe('formatMoney', () => {
  it('formats minor units with the program currency', async () => {
    const { formatMoney } = await import('./money');
    const norm = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
    expect(norm(formatMoney(1750000, 'RUB', 'ru'))).toBe('17 500,00 ₽');
    expect(norm(formatMoney(1250, 'EUR', 'en'))).toBe('€12.50');
    expect(norm(formatMoney(5, 'BGN', 'bg'))).toMatch(/^0,05 /);
  });
});
