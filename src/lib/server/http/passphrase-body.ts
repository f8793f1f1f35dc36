/**
 * The passphrase from a POST body, so that web pages never put it in a URL: a form field
 * (`passphrase` or `key`) or JSON `{ "passphrase": "..." }` / `{ "key": "..." }`.
 */
import { refuse, type Outcome } from '../refusal';

const MAX_BODY_BYTES = 4096;

export type BodyPassphrase = Outcome<{ passphrase: string }>;

export async function readPassphrase(request: Request): Promise<BodyPassphrase> {
	const declared = Number(request.headers.get('content-length') ?? 0);
	if (declared > MAX_BODY_BYTES) return refuse('BODY_TOO_LARGE');
	const type = request.headers.get('content-type')?.toLowerCase() ?? '';
	let value: unknown;
	try {
		const text = await readBounded(request);
		if (type.startsWith('application/json')) {
			const body = JSON.parse(text) as Record<string, unknown> | null;
			value = body?.passphrase ?? body?.key;
		} else if (type.startsWith('application/x-www-form-urlencoded') || type === '') {
			const form = new URLSearchParams(text);
			value = form.get('passphrase') ?? form.get('key');
		} else {
			return refuse('UNSUPPORTED_MEDIA_TYPE');
		}
	} catch {
		return refuse('BAD_REQUEST', { detail: 'The request body could not be read.' });
	}
	if (typeof value !== 'string') {
		return refuse('BAD_REQUEST');
	}
	return { ok: true, passphrase: value };
}

/** Read at most MAX_BODY_BYTES, whatever Content-Length claimed (or did not). */
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
			await reader.cancel();
			throw new Error('Body too large');
		}
		parts.push(value);
	}
	return Buffer.concat(parts).toString('utf8');
}
