/**
 * File names: what the user sent is sanitised before it is sealed into the metadata, and
 * encoded per RFC 6266 / RFC 8187 when it goes back out in Content-Disposition.
 */

const MAX_NAME_BYTES = 255;
const FALLBACK_NAME = 'file';

/**
 * Characters that are never kept: C0/C1 controls, and the bidirectional formatting marks that
 * can make `invoice\u202Efdp.exe` display as `invoiceexe.pdf`.
 */
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/gu;

/**
 * A safe display name: NFC, the last path part only (`/` and `\` both separate), no unsafe
 * characters, no leading dots or surrounding spaces, at most 255 UTF-8 bytes with the
 * extension kept. Falls back to `file`.
 */
export function sanitizeFilename(raw: string | undefined): string {
	let name = (raw ?? '').normalize('NFC').replace(UNSAFE, '');
	name = name.split(/[/\\]/).pop() ?? '';
	name = name.trim().replace(/^\.+/, '').trim();
	if (name === '' || name === '.' || name === '..') return FALLBACK_NAME;
	return truncateUtf8(name, MAX_NAME_BYTES);
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
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`. The fallback
 * replaces anything outside printable ASCII, and quotes and backslashes, with `_`; so no
 * header injection is possible whatever the name holds.
 */
export function contentDisposition(filename: string): string {
	const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
	const encoded = encodeURIComponent(filename).replace(
		/['()*]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
