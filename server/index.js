// The production entry point: `npm start` runs `node server/index.js`.
//
// Why not adapter-node's own build/index.js: adapter-node serves static assets before any
// SvelteKit hook runs, so a hook can never give them the security headers or a request id.
// This small server wraps build/handler.js to do that, and so it also owns what
// build/index.js did: PORT and HOST, the HTTP timeouts and the graceful shutdown.
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import {
	EDGE_KEY,
	parseConfig,
	REQUEST_ID_HEADER,
	SECURITY_HEADERS,
	StartupError,
	UPLOAD_BODY_KEY,
	UPLOAD_BODY_PATHS
} from './shared.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build');

/**
 * A start-up failure the operator can fix: one line on stderr, no stack trace, exit code 1.
 * @param {string} message
 * @returns {never}
 */
function refuseToStart(message) {
	console.error(`raven-zero: ${message}`);
	process.exit(1);
}

// The same parse of the same table as the bundle's getConfig() (src/lib/server/config.ts),
// done here first because two variables must be in process.env before build/handler.js is
// imported: adapter-node reads them as that module loads.
/** @type {import('./shared.js').Config} */
let config;
try {
	config = parseConfig(process.env);
} catch (error) {
	if (error instanceof StartupError) refuseToStart(error.message);
	throw error;
}

// adapter-node caps request bodies at 512K unless told otherwise. Hand it the validated
// limit, by default MAX_FILE_SIZE plus the multipart headroom, so that the upload route's
// byte-exact check is what refuses a large file.
process.env.BODY_SIZE_LIMIT = String(config.bodySizeLimit);

// Without ORIGIN or PROTOCOL_HEADER, adapter-node assumes every request came over https,
// which makes the links we hand out wrong on a plain `npm start`. Tell it the protocol of the
// connection itself, through a header that we set (and overwrite) on every request. Behind a
// TLS-terminating proxy, set ORIGIN (or PROTOCOL_HEADER) and this is not used.
const OWN_PROTOCOL_HEADER = 'x-raven-connection-protocol';
const useOwnProtocolHeader = !config.origin && !config.protocolHeader;
if (useOwnProtocolHeader) process.env.PROTOCOL_HEADER = OWN_PROTOCOL_HEADER;

/** After an early answer, how long a client may keep sending before we drop the connection. */
const EARLY_ANSWER_LINGER_MS = 2_000;

/** @type {(req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void} */
let handler;
try {
	// Importing the handler runs Kit's init(), which opens the log, the store and the word list.
	({ handler } = await import(path.join(buildDir, 'handler.js')));
} catch (error) {
	// The bundle has its own copy of StartupError (a missing word list): known by its name.
	if (error instanceof Error && error.name === 'StartupError') refuseToStart(error.message);
	if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ERR_MODULE_NOT_FOUND') {
		refuseToStart('no build found; run `npm run build` first');
	}
	throw error;
}

/** @type {import('../src/lib/server/http/edge').Edge} */
const edge = /** @type {any} */ (globalThis)[EDGE_KEY];

const { port, host } = config;
const shutdownTimeoutMs = config.shutdownTimeoutSeconds * 1000;
// Slow clients: headers slower than HEADERS_TIMEOUT are cut off (slowloris), a whole request
// gets REQUEST_TIMEOUT, and a connection silent for CLIENT_IDLE_TIMEOUT in either direction
// (an upload that stalls, a download nobody reads) is closed, freeing its memory and files.
const headersTimeoutMs = config.headersTimeoutSeconds * 1000;
const requestTimeoutMs = config.requestTimeoutSeconds * 1000;
const clientIdleTimeoutMs = config.clientIdleTimeoutSeconds * 1000;
// Node enforces headersTimeout and requestTimeout only when it sweeps its connections, every
// connectionsCheckingInterval (30 s by default). A slowloris client that drips a header byte
// now and then (each byte resets the idle timer) therefore kept its connection for up to
// HEADERS_TIMEOUT + 30 s (measured by tests/resilience/slow-clients.test.ts). Sweep every
// second, or at the headers timeout when that is shorter: a pass over the connections is cheap.
const connectionsCheckingIntervalMs = Math.min(1000, headersTimeoutMs);

/** Every file adapter-node serves statically, as URL paths; they never reach Kit's hooks. */
const staticPaths = new Set();
(function collect(dir, prefix) {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		if (entry.isDirectory()) collect(path.join(dir, entry.name), `${prefix}/${entry.name}`);
		else staticPaths.add(`${prefix}/${entry.name}`);
	}
})(path.join(buildDir, 'client'), '');

const securityHeaderNames = new Set(
	Object.keys(SECURITY_HEADERS).map((name) => name.toLowerCase())
);

/**
 * Make the security headers win over whatever the static file server sets later (it marks
 * immutable assets cacheable for a year; we keep the seed's no-store everywhere).
 * @param {http.ServerResponse} res
 */
function pinSecurityHeaders(res) {
	const setHeader = res.setHeader.bind(res);
	res.setHeader = (name, value) =>
		securityHeaderNames.has(name.toLowerCase()) ? res : setHeader(name, value);
	const writeHead = res.writeHead.bind(res);
	res.writeHead = /** @type {any} */ (
		(/** @type {number} */ status, /** @type {any[]} */ ...rest) => {
			for (const arg of rest) {
				if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
					for (const name of Object.keys(arg)) {
						if (securityHeaderNames.has(name.toLowerCase())) delete arg[name];
					}
				}
			}
			return writeHead(status, ...rest);
		}
	);
}

/**
 * Web Worker scripts (the pages' access-key worker): a worker runs under the CSP of its own
 * response, not the page's, so without this it would run under none. It is one self-contained
 * file that imports nothing, fetches nothing and evaluates no strings, so it needs nothing:
 * `default-src 'none'` (script-src falls back to it, so no eval, no import, no fetch). Other
 * static files are scripts, styles and images run under the page's policy, where a policy
 * on their own response is ignored.
 */
const WORKER_PATH = '/_app/immutable/workers/';
const WORKER_CSP = "default-src 'none'";

/** @param {string | undefined} url */
function pathnameOf(url) {
	try {
		return decodeURIComponent(new URL(url ?? '/', 'http://x').pathname);
	} catch {
		return '';
	}
}

const server = http.createServer(
	{
		headersTimeout: headersTimeoutMs,
		requestTimeout: requestTimeoutMs,
		connectionsCheckingInterval: connectionsCheckingIntervalMs
	},
	(req, res) => {
		const requestId = randomUUID();
		const startedAt = performance.now();
		edge.observeRequest(req, res, startedAt);
		// Kit's requestId handle picks this up; a client's own value is overwritten.
		req.headers['x-raven-request-id'] = requestId;
		if (useOwnProtocolHeader) {
			req.headers[OWN_PROTOCOL_HEADER] = /** @type {any} */ (req.socket).encrypted
				? 'https'
				: 'http';
		}
		res.setHeader(REQUEST_ID_HEADER, requestId);
		for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

		const pathname = pathnameOf(req.url);
		const isStatic = staticPaths.has(pathname);
		if (isStatic) {
			if (pathname.startsWith(WORKER_PATH)) res.setHeader('Content-Security-Policy', WORKER_CSP);
			pinSecurityHeaders(res);
			res.on('finish', () =>
				edge.logStaticRequest({
					request_id: requestId,
					method: req.method,
					status_code: res.statusCode,
					duration: Math.round((performance.now() - startedAt) * 100) / 100
				})
			);
		}
		res.on('finish', () => {
			if (!req.complete) closeAfterEarlyAnswer(req);
		});
		if (isStatic && req.method !== 'GET' && req.method !== 'HEAD') {
			// sirv serves a static file to any method (PUT /favicon.svg answered 200 with the
			// file); a file only answers GET and HEAD, in the API's JSON error shape.
			res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' });
			res.end(
				JSON.stringify({
					error_code: 'METHOD_NOT_ALLOWED',
					detail: `${req.method} is not allowed here; use GET or HEAD.`
				})
			);
			return;
		}
		if (req.method === 'POST' && uploadBodyPaths.has(pathname)) handOverUploadBody(req);
		handler(req, res, () => {
			res.statusCode = 404;
			res.end();
		});
	}
);

const uploadBodyPaths = new Set(UPLOAD_BODY_PATHS);
const MULTIPART = /^multipart\/form-data/i;

/**
 * Hand a multipart upload's body to the upload route as the Node stream it is (issue #11).
 * adapter-node would wrap it in a web ReadableStream that holds one chunk and pauses and
 * resumes the socket around each, and the route turns that back into a Node stream for
 * busboy: per 10 MiB a few ms of CPU that buy nothing. So Kit is told there is no body (a
 * declared length of 0 is how its getRequest builds a Request without one; the HTTP parser
 * has read the real framing already, so only Kit's view changes), the declared length is kept
 * on the request under UPLOAD_BODY_KEY, and the route reads `event.platform.req`
 * (src/lib/server/http/upload-body.ts). Every hook still runs on the request as before.
 * A request without a body, or not multipart, is left alone: the route refuses it as before.
 * Should Kit route a marked request elsewhere, nothing reads its body and the connection is
 * closed after the answer (closeAfterEarlyAnswer), as for any body a route does not read.
 * @param {http.IncomingMessage} req
 */
function handOverUploadBody(req) {
	const type = req.headers['content-type'];
	const declared = req.headers['content-length'];
	const chunked = req.headers['transfer-encoding'] !== undefined;
	if (!type || !MULTIPART.test(type) || (declared === undefined ? !chunked : declared === '0')) {
		return;
	}
	/** @type {any} */ (req)[UPLOAD_BODY_KEY] = {
		contentLength: declared === undefined ? undefined : Number(declared)
	};
	req.headers['content-length'] = '0';
	delete req.headers['transfer-encoding'];
}

/**
 * The app answered before reading the whole body (an upload refused with 413, 415, 400...).
 * Do not make the client send the rest: discard what is already in flight without buffering
 * it, half-close so the client sees the end of our answer, and drop the connection shortly
 * after. Destroying the socket at once could reset it before the client has read the answer.
 * @param {http.IncomingMessage} req
 */
function closeAfterEarlyAnswer(req) {
	req.removeAllListeners('data');
	req.on('data', () => undefined);
	req.resume();
	req.socket.end();
	setTimeout(() => req.socket.destroy(), EARLY_ANSWER_LINGER_MS).unref();
}

let shuttingDown = false;

server.setTimeout(clientIdleTimeoutMs, (socket) => socket.destroy());

/** @param {'SIGINT' | 'SIGTERM'} reason */
function shutDown(reason) {
	if (shuttingDown) return;
	shuttingDown = true;
	edge.logInfo({ event: 'stopping', reason, timeout_ms: shutdownTimeoutMs });
	// A keep-alive connection that is idle would hold close() open until it timed out.
	server.closeIdleConnections();
	const cutOff = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
	cutOff.unref();
	server.close(() => {
		clearTimeout(cutOff);
		// src/lib/server/shutdown.ts stops jobs, closes the store, flushes the log and exits.
		process.emit(/** @type {any} */ ('sveltekit:shutdown'), reason);
	});
}

server.on('request', (req) => {
	// Once shutdown started, connections are closed as soon as their request is done.
	req.on('close', () => {
		if (shuttingDown) server.closeIdleConnections();
	});
});

process.on('SIGTERM', () => shutDown('SIGTERM'));
process.on('SIGINT', () => shutDown('SIGINT'));

/**
 * Why listening failed, in one line that says what to change.
 * @param {NodeJS.ErrnoException} error
 */
function describeListenError(error) {
	switch (error.code) {
		case 'EADDRINUSE':
			return `port ${port} on ${host} is already in use (another process listens there; stop it or set PORT)`;
		case 'EACCES':
			return `no permission to listen on port ${port} on ${host} (ports below 1024 need privileges; set PORT)`;
		case 'EADDRNOTAVAIL':
			return `cannot listen on ${host}: not an address of this machine (set HOST)`;
		case 'ENOTFOUND':
			return `cannot listen on ${host}: no such host name (set HOST)`;
		default:
			return `cannot listen on port ${port} on ${host}: ${error.message.split('\n')[0]}`;
	}
}

/** @param {NodeJS.ErrnoException} error */
const onListenError = (error) => refuseToStart(describeListenError(error));
server.once('error', onListenError);
server.listen({ port, host }, () => {
	server.off('error', onListenError);
	const address = server.address();
	const actualPort = typeof address === 'object' && address ? address.port : port;
	edge.logInfo({ event: 'listening', host, port: actualPort });
});
