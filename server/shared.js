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

/**
 * How the server's Node process is started (`npm start`, the Dockerfile, the tests and the
 * benchmark all use these; tests/unit/runtime-settings.test.ts keeps the first two in step).
 *
 * `--initial-old-space-size=32`: with V8's default the old generation starts so small that
 * every few MiB of streamed buffers set off a full mark-compact; over 60 uploads of 10 MiB,
 * 95 full collections instead of 1, and 30 % more server CPU per upload (README, Performance).
 * It cannot be set from NODE_OPTIONS or at run time, so it is a command-line flag.
 */
export const NODE_FLAGS = Object.freeze(['--initial-old-space-size=32']);

/**
 * `MALLOC_ARENA_MAX=2`: glibc otherwise keeps one arena per thread, and the memory of scrypt
 * on libuv's threads stays mapped in each of them after use.
 */
export const SERVER_ENV = Object.freeze({ MALLOC_ARENA_MAX: '2' });
