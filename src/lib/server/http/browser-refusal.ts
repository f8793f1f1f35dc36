/**
 * Refusals for browsers without JavaScript. A plain form POST that is refused before a page
 * action runs (the rate limits in hooks) or that goes to the `/download` endpoint (the only
 * way to stream a file to a form) would otherwise show raw JSON. Such browsers are sent back
 * to the page with the error code in the query string, and the page shows a sentence for it.
 * Only codes from this table are ever shown; nothing the client sent is echoed, and the
 * passphrase never goes into the URL.
 */

const MESSAGES: Record<string, string> = {
	RATE_LIMITED: 'Too many requests from this address. Wait a little and try again.',
	TOO_MANY_FAILED_LOOKUPS:
		'Too many unknown passphrases came from this address, so it is blocked for a while.',
	UNKNOWN_PASSPHRASE:
		'No drop has this passphrase. Check it for typos; repeated failures block this address for a while.',
	ALREADY_DOWNLOADED:
		'This drop has been downloaded as many times as allowed and is destroyed. If that was not you, the passphrase has leaked.',
	EXPIRED: 'This drop expired and is destroyed.',
	INVALID_PASSPHRASE: 'A word of that passphrase is not in the word list. Check the words.',
	FILE_MISSING: 'The file of this drop is no longer on this server.',
	STORE_UNAVAILABLE: 'The service cannot reach its database right now. Try again shortly.',
	BAD_REQUEST: 'Enter the passphrase you were given.'
};

export type Refusal = { code: string; message: string; retryAfter: number | undefined };

/** A form submitted by a browser (it asks for HTML and posts a form, not JSON). */
export function isBrowserFormPost(request: Request): boolean {
	const accept = request.headers.get('accept') ?? '';
	const type = request.headers.get('content-type') ?? '';
	return (
		request.method === 'POST' &&
		accept.includes('text/html') &&
		(type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data'))
	);
}

/** 303 back to `page` with the refusal's code (and wait) in the query string. */
export function redirectWithRefusal(page: '/' | '/r', code: string, retryAfter?: number): Response {
	const query = new URLSearchParams({ refused: MESSAGES[code] ? code : 'STORE_UNAVAILABLE' });
	if (retryAfter) query.set('retry', String(Math.ceil(retryAfter)));
	return new Response(null, { status: 303, headers: { Location: `${page}?${query}` } });
}

/** The refusal a page was sent back with, if its code is one we know. */
export function readRefusal(url: URL): Refusal | null {
	const code = url.searchParams.get('refused') ?? '';
	const message = MESSAGES[code];
	if (!message) return null;
	const retry = Number(url.searchParams.get('retry'));
	return {
		code,
		message,
		retryAfter: Number.isSafeInteger(retry) && retry > 0 ? retry : undefined
	};
}
