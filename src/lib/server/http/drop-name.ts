/**
 * How a POST names a drop, so that it never sits in a URL: the access key the pages derive
 * (an `X-Access-Key` header, or `access_key` as a form field or in JSON), or the passphrase
 * (a form field `passphrase` or `key`, or JSON `{ "passphrase": "..." }` / `{ "key": "..." }`).
 */
import type { DropName } from '../drops';
import { refuse, type Outcome } from '../refusal';

const MAX_BODY_BYTES = 4096;

/**
 * The drop a POST names: by access key (header or body) or by passphrase (body). `usesShown`
 * is the retrieval page's count of downloads left as its form without JavaScript showed it
 * (field `uses_shown`), when the body carries one.
 */
export async function readDropName(
	request: Request
): Promise<Outcome<{ name: DropName; usesShown?: number }>> {
	const header = request.headers.get('x-access-key');
	if (header !== null) return { ok: true, name: { accessKey: header.trim() } };
	const read = await readFields(request);
	if (!read.ok) return read;
	const { fields } = read;
	const shown = Number(fields.uses_shown);
	const usesShown =
		typeof fields.uses_shown === 'string' && Number.isSafeInteger(shown) ? shown : undefined;
	if (typeof fields.access_key === 'string') {
		return { ok: true, name: { accessKey: fields.access_key.trim() }, usesShown };
	}
	const passphrase = fields.passphrase ?? fields.key;
	if (typeof passphrase !== 'string') return refuse('BAD_REQUEST');
	return { ok: true, name: passphrase, usesShown };
}

/** The fields of a small JSON or form body. */
async function readFields(request: Request): Promise<Outcome<{ fields: Record<string, unknown> }>> {
	const declared = Number(request.headers.get('content-length') ?? 0);
	if (declared > MAX_BODY_BYTES) return refuse('BODY_TOO_LARGE');
	const type = request.headers.get('content-type')?.toLowerCase() ?? '';
	let fields: Record<string, unknown>;
	try {
		const text = await readBounded(request);
		if (type.startsWith('application/json')) {
			const body: unknown = JSON.parse(text);
			fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
		} else if (type.startsWith('application/x-www-form-urlencoded') || type === '') {
			fields = Object.fromEntries(new URLSearchParams(text));
		} else {
			return refuse('UNSUPPORTED_MEDIA_TYPE');
		}
	} catch (error) {
		if (error instanceof BodyTooLarge) return refuse('BODY_TOO_LARGE');
		return refuse('BAD_REQUEST', { detail: 'The request body could not be read.' });
	}
	return { ok: true, fields };
}

class BodyTooLarge extends Error {}

/**
 * Read at most MAX_BODY_BYTES, whatever Content-Length claimed (or did not). Past it, stop
 * reading without cancelling the body: a cancel destroys the socket before the 413 is sent
 * (a chunked body over 4 KiB used to get no answer at all); server/index.js closes the
 * connection once the answer is out.
 */
async function readBounded(request: Request): Promise<string> {
	if (!request.body) return '';
	const reader = request.body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > MAX_BODY_BYTES) {
			reader.releaseLock();
			throw new BodyTooLarge();
		}
		parts.push(value);
	}
	return Buffer.concat(parts).toString('utf8');
}
