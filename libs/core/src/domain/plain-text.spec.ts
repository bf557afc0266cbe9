import { describe, expect, it } from 'vitest';
import { requirePlainText, textProblem, toPlainText } from './plain-text.js';

describe('plain text', () => {
  it('takes letters of every script, emoji (surrogate pairs), tabs and new lines', () => {
    for (const text of ['cat', 'Straße', '猫', 'chat 🐈‍⬛', 'line one\nline two\ttab'])
      expect(textProblem(text)).toBeNull();
  });

  it('names NUL, other control characters and lone surrogates', () => {
    expect(textProblem('a\u0000b')).toBe('the control character U+0000');
    expect(textProblem('bell\u0007')).toBe('the control character U+0007');
    expect(textProblem('half \ud83d')).toBe('a lone UTF-16 surrogate (half of a character)');
    expect(textProblem('\udc08 half')).toBe('a lone UTF-16 surrogate (half of a character)');
    expect(() => requirePlainText('name', 'x\u0000')).toThrow(
      expect.objectContaining({ code: 'INVALID_CHARACTERS', details: { field: 'name' } }),
    );
  });

  it('replaces what cannot be stored in text taken from files, keeping the rest', () => {
    expect(toPlainText('a\u0000b\ud800c🐈.png')).toBe('a\uFFFDb\uFFFDc🐈.png');
  });
});
