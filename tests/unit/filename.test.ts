/**
 * Content-Disposition for downloads: `filename*` carries the exact UTF-8 name, and the plain
 * `filename` is what clients that ignore `filename*` save under (`curl -OJ`), so it must be a
 * readable ASCII spelling of the name rather than a row of underscores.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
	contentDisposition,
	sanitizeEntryPath,
	sanitizeFilename
} from '../../src/lib/server/filename';

/** The two parameters of an `attachment; filename="…"; filename*=UTF-8''…` value. */
function parametersOf(header: string): { fallback: string; exact: string } {
	const match =
		/^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9%._~!$&+-]*)$/.exec(header);
	if (!match) throw new Error(`unexpected header: ${header}`);
	return { fallback: match[1]!, exact: decodeURIComponent(match[2]!) };
}

describe('contentDisposition', () => {
	test('the name from the issue: a readable fallback for curl -OJ, the exact name in filename*', () => {
		const name = 'Grüße – 日本語 résumé 🐦.txt';
		expect(contentDisposition(name)).toBe(
			`attachment; filename="Grusse - ___ resume _.txt"; ` +
				`filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%80%93%20%E6%97%A5%E6%9C%AC%E8%AA%9E%20r%C3%A9sum%C3%A9%20%F0%9F%90%A6.txt`
		);
	});

	test.each([
		['report.bin', 'report.bin'],
		['plain ASCII (with) [brackets] & 100%.txt', 'plain ASCII (with) [brackets] & 100%.txt'],
		['say "hi" \\ bye.txt', 'say _hi_ _ bye.txt'],
		['naïve café.pdf', 'naive cafe.pdf'],
		['cafe\u0301 decomposed.txt', 'cafe decomposed.txt'],
		['Ærøskøbing Œuvre ẞ.txt', 'AEroskobing OEuvre SS.txt'],
		['Łódź — 2024‐01.txt', 'Lodz - 2024-01.txt'],
		['Ｆｕｌｌｗｉｄｔｈ ﬁle №1.txt', 'Fullwidth file No1.txt'],
		['‘quoted’ “twice”.txt', "'quoted' 'twice'.txt"],
		// Hangul syllables decompose into several jamo under NFKD: still one `_` each.
		['한국어.txt', '___.txt'],
		// One `_` per code point, never per UTF-16 unit; the emoji variation selector is a mark.
		['🐦🐦✂️.txt', '___.txt'],
		// A compatibility form that would become a path separator or a quote stays unreadable.
		['a／b＼c＂d.txt', 'a_b_c_d.txt'],
		['Ω ≠ ∞.txt', '_ _ _.txt']
	] as const)('%s falls back to %s', (name, fallback) => {
		const parameters = parametersOf(contentDisposition(name));
		expect(parameters.fallback).toBe(fallback);
		expect(parameters.exact).toBe(name);
	});

	test('any sanitised name gives a header-safe fallback and an exact filename*', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
				const name = sanitizeFilename(raw);
				const { fallback, exact } = parametersOf(contentDisposition(name));
				expect(fallback).toMatch(/^[\x20-\x7e]+$/);
				expect(fallback).not.toMatch(/["\\/]/);
				expect(exact).toBe(name);
			})
		);
	});
});

describe('sanitizeFilename drops what hides a name (issue #12)', () => {
	test.each([
		['report.pdf' + '\u3000'.repeat(18) + '.exe', 'report.pdf .exe'],
		['report.pdf' + ' '.repeat(30) + '.exe', 'report.pdf .exe'],
		['a\u2028b\u2029c.txt', 'abc.txt'],
		['in\u200Dvoice.pdf', 'invoice.pdf'],
		['in\u200Bvoice.pdf', 'invoice.pdf'],
		['\u3164\u3164notes.txt', 'notes.txt'],
		['x\u115F\u1160\uFFA0\u2800y.txt', 'xy.txt'],
		['invoice\u202Efdp.exe', 'invoicefdp.exe'],
		['\u00A0\u2003plan.txt\u00A0', 'plan.txt']
	] as const)('%j becomes %j', (raw, expected) => {
		expect(sanitizeFilename(raw)).toBe(expected);
	});
});

describe('sanitizeEntryPath', () => {
	test.each([
		['photos/2024/beach.jpg', 'photos/2024/beach.jpg'],
		['../../etc/passwd', 'etc/passwd'],
		['/abs/./path//x.txt', 'abs/path/x.txt'],
		['C:\\Users\\me\\notes.txt', 'C:/Users/me/notes.txt'],
		['folder/invoice\u202Efdp.exe', 'folder/invoicefdp.exe'],
		[' spaced \u3000\u3000 out /  name .txt ', 'spaced out/name .txt'],
		['.config/.env', '.config/.env'],
		['..', 'file'],
		['', 'file']
	] as const)('%j is shown as %j', (raw, shown) => {
		expect(sanitizeEntryPath(raw, 1024)).toBe(shown);
	});

	test('a path too long loses its deepest folders first, never the name', () => {
		const deep = `${'a'.repeat(300)}/${'b'.repeat(300)}/${'c'.repeat(300)}/name.txt`;
		const shown = sanitizeEntryPath(deep, 700);
		expect(shown).toBe(`${'a'.repeat(255)}/${'b'.repeat(255)}/name.txt`);
		expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(700);
	});

	test('any path comes out without separators to climb by, within its bound', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (raw) => {
				const shown = sanitizeEntryPath(raw, 64);
				expect(shown.split('/')).not.toContain('..');
				expect(shown.split('/')).not.toContain('');
				expect(shown).not.toMatch(/[\p{Cc}\p{Cf}\\]/u);
			})
		);
	});
});
