import { describe, expect, it } from 'vitest';
import { OpIds, newOpId } from './opid';
import { errorText, toAppError } from './errors';

describe('OpIds', () => {
  it('reuses the id for the same request until done, renews it otherwise', () => {
    const ops = new OpIds();
    const a = ops.for({ card: '1', spend: 0 });
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ops.for({ card: '1', spend: 0 })).toBe(a); // retried / double-pressed
    const b = ops.for({ card: '1', spend: 5 });
    expect(b).not.toBe(a); // another request
    ops.done();
    expect(ops.for({ card: '1', spend: 5 })).not.toBe(b); // the next sale
    expect(newOpId()).not.toBe(newOpId());
  });
});

describe('toAppError', () => {
  it('keeps the core errors and wraps the rest', () => {
    expect(toAppError({ code: 'PIN_WRONG', message: '2 tries left' })).toEqual({ code: 'PIN_WRONG', message: '2 tries left' });
    expect(toAppError('{"code":"X","message":"y"}')).toEqual({ code: 'X', message: 'y' });
    expect(toAppError('command not found')).toEqual({ code: 'IPC', message: 'command not found' });
    expect(toAppError(new Error('boom'))).toEqual({ code: 'UI', message: 'boom' });
    expect(errorText({ code: 'UNKNOWN_CARD', message: 'no card 1' })).toBe('UNKNOWN_CARD — no card 1');
  });
});
