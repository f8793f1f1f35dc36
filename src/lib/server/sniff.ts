/**
 * What a file is, from its first bytes (magic numbers via `file-type`), never from the name
 * or the type the client claims. Text has no magic number, so valid UTF-8 without NUL bytes
 * counts as text/plain; anything else unknown is application/octet-stream.
 */
import { fileTypeFromBuffer } from 'file-type';

/** file-type's own advice: this many bytes are enough for every format it knows. */
export const SNIFF_BYTES = 4100;
export const GENERIC_TYPE = 'application/octet-stream';

/** The MIME type of a file that starts with `head` (at most SNIFF_BYTES of it). */
export async function sniffMimeType(head: Buffer, isWholeFile: boolean): Promise<string> {
	const detected = await fileTypeFromBuffer(head);
	if (detected) return detected.mime;
	if (head.length > 0 && looksLikeText(head, isWholeFile)) return 'text/plain';
	return GENERIC_TYPE;
}

function looksLikeText(head: Buffer, isWholeFile: boolean): boolean {
	if (head.includes(0)) return false;
	// A multi-byte character may be cut at the end of the sniffed head; allow up to 3 bytes.
	const decoder = new TextDecoder('utf-8', { fatal: true });
	for (let cut = 0; cut <= (isWholeFile ? 0 : 3); cut++) {
		try {
			decoder.decode(head.subarray(0, head.length - cut));
			return true;
		} catch {
			// try a shorter prefix
		}
	}
	return false;
}

/** Whether `mimeType` is allowed by ALLOWED_MIME_TYPES (empty: all; `image/*` wildcards). */
export function isAllowedType(mimeType: string, allowed: readonly string[]): boolean {
	if (allowed.length === 0) return true;
	const [major] = mimeType.split('/');
	return allowed.some((entry) => entry === mimeType || entry === `${major}/*`);
}
