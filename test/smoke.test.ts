import { expect, test } from 'vitest';
import { formatG } from '../src/protocol/book.js';
test('formatG', () => { expect(formatG(1.5)).toBe('1.5'); });
