/**
 * The server's suggestion index (src/lib/server/suggestions.ts) answers exactly as the
 * comparison with every word did (`suggestWords`, which the retrieval page still uses): same
 * words, same order, for typical typos, words being typed, and nonsense.
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { suggestWords } from '../../src/lib/passphrase';
import { loadWordlist } from '../../src/lib/server/diceware';
import { SuggestionIndex } from '../../src/lib/server/suggestions';

const list = loadWordlist(path.resolve(import.meta.dirname, '../../data/diceware_words.txt'));
const words = list.drawable;
const index = new SuggestionIndex(words);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;
const letter = () => pick([...LETTERS]);

/** One typo of the kinds people make: a letter dropped, doubled, added, changed, or swapped. */
function typo(word: string): string {
	const at = randomInt(word.length);
	switch (randomInt(5)) {
		case 0:
			return word.slice(0, at) + word.slice(at + 1);
		case 1:
			return word.slice(0, at + 1) + word.slice(at);
		case 2:
			return word.slice(0, at) + letter() + word.slice(at);
		case 3:
			return word.slice(0, at) + letter() + word.slice(at + 1);
		default:
			return at + 1 < word.length
				? word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2)
				: word + letter();
	}
}

const same = (input: string) =>
	expect(index.suggest(input), input).toEqual(suggestWords(words, input));

describe('the suggestion index', () => {
	test.each([
		'velvte',
		'gravey',
		'amulett',
		'ocaen',
		'abac',
		'ab',
		'a',
		'zz',
		'qqqqqqqqqq',
		'acornn',
		'acron',
		'ACORN',
		'ｖｅｌｖｅｔ',
		'velvet',
		'x'.repeat(12),
		'abacusabacus'
	])('suggests for %j what the whole-list comparison did', (input) => same(input));

	// The reference compares with every word (a few ms each): a few hundred of each kind.
	test(
		'one typo in 400 list words: the same suggestions, in the same order',
		{ timeout: 60_000 },
		() => {
			for (let i = 0; i < 400; i++) same(typo(pick(words)));
		}
	);

	test('two typos in 300 list words, and 150 beginnings of words', { timeout: 60_000 }, () => {
		for (let i = 0; i < 300; i++) same(typo(typo(pick(words))));
		for (let i = 0; i < 150; i++) {
			const word = pick(words);
			same(word.slice(0, 1 + randomInt(word.length)));
		}
	});

	test('150 random strings of 1-14 letters', { timeout: 60_000 }, () => {
		for (let i = 0; i < 150; i++) {
			same(Array.from({ length: 1 + randomInt(14) }, letter).join(''));
		}
	});

	test('the limit is kept, the closest first', () => {
		expect(index.suggest('ab', 3)).toEqual(suggestWords(words, 'ab', 3));
		expect(index.suggest('ab', 3)).toHaveLength(3);
	});
});
