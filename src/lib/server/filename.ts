/**
 * File names: what the user sent is sanitised before it is sealed into the metadata, and
 * encoded per RFC 6266 / RFC 8187 when it goes back out in Content-Disposition.
 */

const MAX_NAME_BYTES = 255;
const FALLBACK_NAME = 'file';

/**
 * Characters that are never kept: controls (`\p{Cc}`), every format character (`\p{Cf}`: the
 * bidirectional marks that make `invoice\u202Efdp.exe` display as `invoiceexe.pdf`, zero-width
 * joiners and spaces), line and paragraph separators, and the Hangul and braille fillers that
 * render as blank space.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/gu;
/** Any run of spaces of any width is one plain space (`report.pdf` + 18 x U+3000 + `.exe`). */
const SPACES = /\p{Zs}+/gu;

/**
 * A safe display name: NFC, the last path part only (`/` and `\` both separate), no unsafe
 * characters, one plain space for any run of spaces, no leading dots or surrounding spaces, at most 255 UTF-8 bytes with the
 * extension kept. Falls back to `file`.
 */
export function sanitizeFilename(raw: string | undefined): string {
	let name = (raw ?? '').normalize('NFC').replace(UNSAFE, '').replace(SPACES, ' ');
	name = name.split(/[/\\]/).pop() ?? '';
	name = name.trim().replace(/^\.+/, '').trim();
	if (name === '' || name === '.' || name === '..') return FALLBACK_NAME;
	return truncateUtf8(name, MAX_NAME_BYTES);
}

/**
 * A safe display name for a file inside an archive (`photos/2024/beach.jpg`): each folder
 * and the name are cleaned as sanitizeFilename cleans a name (NFC, no unsafe characters, one
 * plain space for any run of spaces, trimmed, at most 255 UTF-8 bytes); `\` separates as `/`
 * does; empty, `.` and `..` parts are dropped, so no name climbs out of its folder or starts at
 * the root. Leading dots stay (`.env` is that file's name; it is only shown, never saved under
 * it). At most `maxBytes` UTF-8 bytes in all (at least one name's 255 bytes), cut on a part
 * boundary, the file's own name kept. Falls back to `file`.
 */
export function sanitizeEntryPath(raw: string, maxBytes: number): string {
	const parts = raw
		.normalize('NFC')
		.replace(UNSAFE, '')
		.replace(SPACES, ' ')
		.split(/[/\\]/)
		.map((part) => part.trim())
		.filter((part) => part !== '' && part !== '.' && part !== '..')
		.map((part) => truncateUtf8(part, MAX_NAME_BYTES));
	const name = parts.pop() ?? FALLBACK_NAME;
	// The deepest folders go first when the whole is too long: the name says the most.
	while (parts.length > 0 && byteLength([...parts, name].join('/')) > maxBytes) parts.pop();
	return parts.length > 0 ? [...parts, name].join('/') : name;
}

function byteLength(text: string): number {
	return Buffer.byteLength(text, 'utf8');
}

/** Shorten to `limit` UTF-8 bytes on a code point boundary, keeping a short extension. */
function truncateUtf8(name: string, limit: number): string {
	if (byteLength(name) <= limit) return name;
	const dot = name.lastIndexOf('.');
	const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
	const stem = [...name.slice(0, name.length - extension.length)];
	while (stem.length > 0 && byteLength(stem.join('') + extension) > limit) stem.pop();
	return stem.join('') + extension || FALLBACK_NAME;
}

/**
 * What NFKD leaves whole but has a usual ASCII spelling: Latin letters of their own (not a base
 * letter with a mark) and typographic quotes (`"` itself cannot stand in the quoted fallback).
 */
const ASCII_SPELLINGS: Readonly<Record<string, string>> = {
	ß: 'ss',
	ẞ: 'SS',
	æ: 'ae',
	Æ: 'AE',
	œ: 'oe',
	Œ: 'OE',
	ø: 'o',
	Ø: 'O',
	đ: 'd',
	Đ: 'D',
	ð: 'd',
	Ð: 'D',
	ł: 'l',
	Ł: 'L',
	þ: 'th',
	Þ: 'Th',
	ı: 'i',
	'\u2018': "'",
	'\u2019': "'",
	'\u201A': "'",
	'\u201C': "'",
	'\u201D': "'",
	'\u201E': "'"
};

/** What the quoted `filename` may hold: printable ASCII without quote, backslash or slash. */
const PLAIN = /^[\x20-\x7e]*$/;
const NOT_PLAIN = /["\\/]/;

/**
 * One code point spelled in ASCII, or `_` when it has no spelling: dashes become `-`; a letter
 * loses its marks after NFKD (ü → u, ﬁ → fi, Ｆ → F); a symbol keeps them, so `≠` (= plus a
 * combining stroke) is `_`, not `=`; a stray combining mark (an emoji variation selector)
 * disappears. A compatibility form that would turn into `/`, `\` or `"` stays `_`.
 */
function spellInAscii(char: string): string {
	const spelled = ASCII_SPELLINGS[char];
	if (spelled !== undefined) return spelled;
	if (/^\p{Pd}$/u.test(char)) return '-';
	if (/^\p{M}$/u.test(char)) return '';
	let plain = char.normalize('NFKD');
	if (/^\p{L}$/u.test(char)) plain = plain.replace(/\p{M}/gu, '');
	return PLAIN.test(plain) && !NOT_PLAIN.test(plain) ? plain : '_';
}

/**
 * The quoted `filename` for clients that ignore `filename*` (`curl -OJ` saves under it): the
 * name transliterated code point by code point, so `Grüße – 日本語 🐦.txt` is
 * `Grusse - ___ _.txt`. Always printable ASCII without `"` or `\`, so it needs no escaping and
 * cannot inject a header.
 */
function asciiFallback(filename: string): string {
	let fallback = '';
	for (const char of filename) fallback += spellInAscii(char);
	return fallback || FALLBACK_NAME;
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266):
 * `filename*` is the exact UTF-8 name, `filename` a readable ASCII spelling of it.
 *
 * Not the `content-disposition` package: its own fallback is Latin-1 with `?`, so the fallback
 * would stay ours to write (it takes a custom string), and whenever that equals the name (every
 * ASCII name) it leaves `filename*` out, changing the header clients get today. What it would
 * save is the one encoding line below.
 */
export function contentDisposition(filename: string): string {
	const encoded = encodeURIComponent(filename).replace(
		/['()*]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `attachment; filename="${asciiFallback(filename)}"; filename*=UTF-8''${encoded}`;
}
