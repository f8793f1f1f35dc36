// The headers every response carries: Kit's responses (src/lib/server/http/security-headers.ts)
// and the static assets that adapter-node serves before any hook runs (server/index.js).
// Plain JavaScript so both the bundle and the entry point can import it.

/** @type {Readonly<Record<string, string>>} */
export const SECURITY_HEADERS = Object.freeze({
	'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
	Pragma: 'no-cache',
	Expires: '0',
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'X-XSS-Protection': '1; mode=block',
	'Referrer-Policy': 'no-referrer'
});

/** The request id header, set on every response and carried in the access log line. */
export const REQUEST_ID_HEADER = 'X-Request-ID';

/** Where the bundle publishes what the entry point needs from it (see src/lib/server/http/edge.ts). */
export const EDGE_KEY = Symbol.for('raven-zero.edge');

/**
 * What a multipart body may carry besides the file itself (boundaries, part headers, the
 * `expiry` and `uses` fields). BODY_SIZE_LIMIT must leave this much room above MAX_FILE_SIZE,
 * so that the byte-exact MAX_FILE_SIZE check, not adapter-node's body cap, refuses uploads.
 */
export const MULTIPART_HEADROOM_BYTES = 64 * 1024;
