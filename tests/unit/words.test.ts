/**
 * The retrieval page's live word check ($lib/words, $lib/passphrase) agrees with the server's
 * (src/lib/server/diceware.ts) on the shipped list: same words, same suggestions.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadWordlist } from '../../src/lib/server/diceware';
import { splitPassphrase, suggestWords } from '../../src/lib/passphrase';
import { checkPassphrase, checkWords, replaceWord, WordIndex } from '../../src/lib/words';
import { formatBytes, formatClock, formatTimeOfDay, formatWait } from '../../src/lib/format';
import { qrSvgDataUrl } from '../../src/lib/qr';

const list = loadWordlist(path.resolve(import.meta.dirname, '../../data/diceware_words.txt'));
const index = new WordIndex(list.drawable);

describe('checkPassphrase: the page refuses what the server would, before deriving a key', () => {
	test.each([
		'abacus velvet gravy amulet',
		'  Abacus—VELVET.gravy\namulet ',
		'abacus velvet gravyy amulet',
		'orbit velvet gravyy amulett',
		'orbit velvet',
		'orbit velvet gravy amulet orbit velvet gravy amulet orbit velvet gravy',
		'',
		' -- ',
		'x'.repeat(801),
		`${'orbit '.repeat(40)}`
	])('%j', (input) => {
		const page = checkPassphrase(index, input);
		const server = list.check(input);
		expect(page.ok).toBe(server.ok);
		if (page.ok && server.ok) expect(page.normalised).toBe(server.passphrase);
		if (!page.ok && !server.ok) {
			expect(page.malformed.reason).toBe(server.reason);
			// The server suggests for the first few unknown words (Wordlist.explain); none of these
			// cases has more.
			expect(page.unknownWords).toEqual(
				server.reason === 'unknown_words' ? list.explain(server.unknown) : []
			);
		}
	});

	test('without the list only the shape is checked', () => {
		expect(checkPassphrase(null, 'orbit velvet gravyy amulet')).toEqual({
			ok: true,
			normalised: 'orbit-velvet-gravyy-amulet'
		});
		expect(checkPassphrase(null, 'orbit velvet').ok).toBe(false);
	});
});

describe('checkWords', () => {
	test('marks known words, a word being typed, and unknown words with suggestions', () => {
		const checked = checkWords(index, 'Velvet  GRAVYY amu');
		expect(checked.map(({ word, state }) => [word, state])).toEqual([
			['velvet', 'known'],
			['gravyy', 'unknown'],
			['amu', 'typing']
		]);
		expect(checked[1]!.suggestions).toContain('gravy');
		expect(checked[2]!.suggestions).toContain('amulet');
	});

	test('a trailing separator ends the last word', () => {
		expect(checkWords(index, 'velvet amu ').at(-1)!.state).toBe('unknown');
	});

	test.each(['gravyy', 'amulte', 'velvt', 'zzzzzz'])(
		'suggests as the server does for %s',
		(word) => {
			expect(index.suggest(word, 5)).toEqual(list.suggest(word, 5));
			expect(suggestWords(list.drawable, word)).toEqual(list.suggest(word));
		}
	);
});

describe('replaceWord', () => {
	test('puts the chosen word in place and writes the passphrase the canonical way', () => {
		expect(replaceWord(' Velvet\nGRAVYY. amulet', 1, 'gravy')).toBe('velvet-gravy-amulet');
		expect(splitPassphrase('velvet-gravy-amulet')).toEqual(['velvet', 'gravy', 'amulet']);
	});
});

describe('format', () => {
	test.each([
		[0, '0 bytes'],
		[1, '1 byte'],
		[1536, '1.5 KiB'],
		[10_485_760, '10 MiB']
	] as const)('formatBytes(%i) = %s', (bytes, text) => {
		expect(formatBytes(bytes)).toBe(text);
	});

	test.each([
		[600_000, '10:00'],
		[59_001, '1:00'],
		[3_723_000, '1:02:03'],
		[-5, '0:00']
	] as const)('formatClock(%i) = %s', (ms, text) => {
		expect(formatClock(ms)).toBe(text);
	});

	test.each([
		[1, '1 second'],
		[45, '45 seconds'],
		[60, '1 minute'],
		[61, '2 minutes'],
		[1800, '30 minutes']
	] as const)('formatWait(%i) = %s', (seconds, text) => {
		expect(formatWait(seconds)).toBe(text);
	});

	test('formatTimeOfDay: 24-hour clock time; in UTC, said so, for pages rendered by the server', () => {
		expect(formatTimeOfDay('2026-03-01T07:05:59.000Z', { utc: true })).toBe('07:05 UTC');
		expect(formatTimeOfDay(Date.UTC(2026, 2, 1, 23, 59), { utc: true })).toBe('23:59 UTC');
		expect(formatTimeOfDay('2026-03-01T07:05:00.000Z')).toMatch(/^\d\d:\d\d$/);
	});
});

describe('qrSvgDataUrl', () => {
	test('is an SVG data URL (what img-src data: allows), with no script in it', () => {
		const url = qrSvgDataUrl('http://127.0.0.1:3000/r#velvet-gravy-amulet-abacus');
		expect(url.startsWith('data:image/svg+xml;base64,')).toBe(true);
		const svg = Buffer.from(url.split(',')[1]!, 'base64').toString('utf8');
		expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
		expect(svg).not.toMatch(/script|on\w+=/i);
	});
});
