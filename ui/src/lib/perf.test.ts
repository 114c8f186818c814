import { describe, expect, it } from 'vitest';
import { markReady, paintedMark, readyMark } from './perf';

describe('markReady', () => {
  it('keeps one ready mark per screen, the latest', () => {
    markReady('login');
    const first = performance.getEntriesByName(readyMark('login'))[0].startTime;
    markReady('login');
    const marks = performance.getEntriesByName(readyMark('login'));
    expect(marks).toHaveLength(1);
    expect(marks[0].startTime).toBeGreaterThanOrEqual(first);
    expect(paintedMark('login')).toBe('ready:login:painted');
  });
});
