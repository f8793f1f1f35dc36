import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { StartupError } from '../../src/lib/server/config';
import {
	editDistance,
	loadWordlist,
	parseWordlist,
	splitPassphrase,
	WORDLIST_SIZE
} from '../../src/lib/server/diceware';

const LIST_PATH = path.resolve(import.meta.dirname, '../../data/diceware_words.txt');
const list = loadWordlist(LIST_PATH);
const listText = readFileSync(LIST_PATH, 'utf8');

describe('the shipped word list', () => {
	test('is the EFF large list: 7,776 unique words keyed 11111-66666', () => {
		expect(list.words).toHaveLength(WORDLIST_SIZE);
		expect(list.words[0]).toBe('abacus');
		expect(list.words.at(-1)).toBe('zoom');
	});

	test('draws only words that survive normalisation whole (no hyphenated words)', () => {
		expect(list.drawable).toHaveLength(WORDLIST_SIZE - 4);
		expect(list.drawable).not.toContain('t-shirt');
		expect(list.has('t-shirt')).toBe(false);
	});
});

describe('generate', () => {
	test('joins the requested number of list words with hyphens', () => {
		for (const count of [3, 4, 10]) {
			const words = list.generate(count).split('-');
			expect(words).toHaveLength(count);
			for (const word of words) expect(list.has(word)).toBe(true);
		}
	});

	test('is not predictable: 2,000 passphrases are all different', () => {
		const seen = new Set(Array.from({ length: 2000 }, () => list.generate(4)));
		expect(seen.size).toBe(2000);
	});

	test('uses the whole list (every first letter appears in 20,000 draws)', () => {
		const firstLetters = new Set(Array.from({ length: 20_000 }, () => list.generate(3)[0]));
		const expected = new Set(list.drawable.map((word) => word[0]));
		expect(firstLetters).toEqual(expected);
	});
});

describe('check', () => {
	test.each([
		['ocean-velvet-gravy-amulet', 'ocean-velvet-gravy-amulet'],
		['Ocean  velvet GRAVY-amulet', 'ocean-velvet-gravy-amulet'],
		['  ocean.velvet.gravy.amulet\n', 'ocean-velvet-gravy-amulet'],
		['ocean\r\nvelvet\tgravy -- amulet', 'ocean-velvet-gravy-amulet'],
		['ＯＣＥＡＮ velvet gravy amulet', 'ocean-velvet-gravy-amulet'],
		['ocean_velvet_gravy_amulet', 'ocean-velvet-gravy-amulet'],
		['ocean1velvet2gravy3amulet', 'ocean-velvet-gravy-amulet']
	] as const)('normalises %j', (input, expected) => {
		expect(list.check(input)).toEqual({
			ok: true,
			passphrase: expected,
			words: expected.split('-')
		});
	});

	test('names each unknown word; explain adds suggestions', () => {
		const result = list.check('ocean-velvte-gravy-amulte');
		expect(result.ok).toBe(false);
		if (result.ok || result.reason !== 'unknown_words') throw new Error('expected unknown words');
		expect(result.unknown).toEqual([
			{ position: 1, word: 'velvte' },
			{ position: 3, word: 'amulte' }
		]);
		const explained = list.explain(result.unknown);
		expect(explained[0]!.suggestions).toContain('velvet');
		expect(explained[1]!.suggestions).toContain('amulet');
	});

	test('explain suggests for the first three unknown words only', () => {
		const result = list.check('velvte-gravey-amulte-ocaen-abacsu');
		if (result.ok || result.reason !== 'unknown_words') throw new Error('expected unknown words');
		const explained = list.explain(result.unknown);
		expect(explained.map(({ word }) => word)).toEqual([
			'velvte',
			'gravey',
			'amulte',
			'ocaen',
			'abacsu'
		]);
		expect(explained.map(({ suggestions }) => suggestions.length > 0)).toEqual([
			true,
			true,
			true,
			false,
			false
		]);
	});

	test.each([
		['', 'empty'],
		['  -- ..', 'empty'],
		['ocean velvet', 'word_count'],
		['abacus '.repeat(11), 'word_count'],
		['a'.repeat(10_000), 'too_long']
	] as const)('refuses %j as %s', (input, reason) => {
		expect(list.check(input)).toMatchObject({ ok: false, reason });
	});

	test('splitPassphrase treats any run of non-letters as one separator', () => {
		expect(splitPassphrase('A--b  c...d')).toEqual(['a', 'b', 'c', 'd']);
	});
});

describe('suggest', () => {
	test.each([
		['velvte', 'velvet'],
		['gravey', 'gravy'],
		['amulett', 'amulet'],
		['ocaen', 'ocean'],
		['abac', 'abacus']
	] as const)('suggests %s -> %s', (typed, meant) => {
		expect(list.suggest(typed)).toContain(meant);
	});

	test('gives at most five suggestions, and none for nonsense', () => {
		expect(list.suggest('ab').length).toBeLessThanOrEqual(5);
		expect(list.suggest('qqqqqqqqqq')).toEqual([]);
	});

	test('editDistance counts an adjacent swap as one edit', () => {
		expect(editDistance('velvet', 'velvte')).toBe(1);
		expect(editDistance('kitten', 'sitting')).toBe(3);
		expect(editDistance('abc', 'abcdefgh', 2)).toBe(3);
	});
});

describe('parseWordlist refuses a malformed list with a clear start-up error', () => {
	const lines = listText.trim().split('\n');
	test.each([
		['a missing word', lines.slice(1).join('\n'), 'it has 7775 words'],
		[
			'a duplicated word',
			[...lines.slice(0, -1), '66666\tabacus'].join('\n'),
			'the word "abacus" appears twice'
		],
		[
			'a duplicated code',
			[...lines.slice(0, -1), '11111\tzoom'].join('\n'),
			'dice code 11111 appears twice'
		],
		['a bad line', [...lines.slice(0, -1), '66666 zoom'].join('\n'), 'line 7776 is not'],
		['an upper-case word', [...lines.slice(0, -1), '66666\tZoom'].join('\n'), 'line 7776 is not']
	])('%s', (_, text, problem) => {
		expect(() => parseWordlist(text, 'test.txt')).toThrow(StartupError);
		expect(() => parseWordlist(text, 'test.txt')).toThrow(problem);
	});

	test('a missing file', () => {
		expect(() => loadWordlist('/no/such/list.txt')).toThrow(
			'Cannot read the diceware word list /no/such/list.txt (ENOENT)'
		);
	});
});
