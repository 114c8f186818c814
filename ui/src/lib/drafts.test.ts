import { describe, expect, it } from 'vitest';
import { parseBirthday } from './drafts.svelte';

describe('parseBirthday', () => {
  it('accepts ISO and day-first dates', () => {
    expect(parseBirthday('1990-05-07')).toBe('1990-05-07');
    expect(parseBirthday('7.5.1990')).toBe('1990-05-07');
    expect(parseBirthday('07/05/1990')).toBe('1990-05-07');
    expect(parseBirthday('2000-02-29')).toBe('2000-02-29');
  });
  it('refuses impossible or future dates', () => {
    for (const s of ['', '1990-02-30', '1999-02-29', '31.04.1990', '1990/05/07', '3000-01-01', '1800-01-01', 'abc'])
      expect(parseBirthday(s), s).toBeNull();
  });
});
