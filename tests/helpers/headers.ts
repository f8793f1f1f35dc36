/**
 * What every response's headers must say, written out by hand (not imported from
 * server/shared.js) so that a change there shows up as a failing test.
 */

/** The seed service's headers, lower-cased as node:http and fetch report them. */
export const SECURITY_HEADERS = Object.freeze({
	'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
	pragma: 'no-cache',
	expires: '0',
	'x-content-type-options': 'nosniff',
	'x-frame-options': 'DENY',
	'x-xss-protection': '1; mode=block',
	'referrer-policy': 'no-referrer',
	'cross-origin-opener-policy': 'same-origin'
});

/** An X-Request-ID: a UUID v4. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
