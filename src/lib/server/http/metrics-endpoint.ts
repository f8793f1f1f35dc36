/**
 * Where Prometheus reads the metrics (metrics.ts), never on the public surface by default:
 *   METRICS_PORT   a listener of its own on METRICS_HOST (127.0.0.1 unless told otherwise);
 *   METRICS_TOKEN  `/metrics` on the main port too, for `Authorization: Bearer <token>` only.
 * With neither set there is no endpoint at all.
 *
 * Without the right token, `/metrics` on the main port is the same 404 as any unknown path
 * (not a 401 with WWW-Authenticate): a scanner learns nothing, not even that metrics exist.
 * A misconfigured Prometheus sees "404" on its targets page, which the README explains.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Handle, RequestEvent } from '@sveltejs/kit';
import type { Logger } from 'pino';
import { StartupError, type Config } from '../config';
import type { Metrics } from '../metrics';
import { services } from '../services';

const METRICS_PATHS = new Set(['/metrics', '/metrics/']);
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Whether an Authorization header carries the token. Both sides are hashed first, so the
 * comparison is constant-time and its length says nothing about the token's.
 */
export function bearerMatches(header: string | null | undefined, token: string): boolean {
	const given = BEARER.exec(header ?? '')?.[1];
	if (given === undefined) return false;
	const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
	return timingSafeEqual(digest(given), digest(token));
}

/** The exposition as a response (GET or HEAD). */
async function exposition(metrics: Metrics, head: boolean): Promise<Response> {
	const { contentType, body } = await metrics.render();
	return new Response(head ? null : body, {
		status: 200,
		headers: { 'Content-Type': contentType }
	});
}

/** Where the entry point finds the route id of a request Kit handled (see edge.ts). */
export const ROUTE_ID = Symbol.for('raven-zero.route-id');

/**
 * Tell the entry point which route this request matched, for the request histogram it keeps
 * (it measures until the last byte, which Kit's handles cannot see for a streamed download).
 */
function tagRoute(event: RequestEvent): void {
	const req = (event.platform as { req?: Record<symbol, unknown> } | undefined)?.req;
	if (req) req[ROUTE_ID] = event.route.id;
}

/** The handle: tags the route, and answers `/metrics` to the bearer of METRICS_TOKEN. */
export const metricsEndpoint: Handle = async ({ event, resolve }) => {
	const { config, metrics } = services();
	if (!metrics.enabled) return resolve(event);
	tagRoute(event);
	const { method } = event.request;
	if (
		config.metricsToken !== undefined &&
		METRICS_PATHS.has(event.url.pathname) &&
		(method === 'GET' || method === 'HEAD') &&
		bearerMatches(event.request.headers.get('authorization'), config.metricsToken)
	) {
		return exposition(metrics, method === 'HEAD');
	}
	return resolve(event);
};

/**
 * The metrics port (METRICS_PORT on METRICS_HOST): `/metrics` only, and only to the bearer
 * of METRICS_TOKEN when that is set. It never holds the process open (unref), so shutdown is
 * the main server's. Resolves once it listens.
 * @throws StartupError when it cannot listen (the port is taken, the address is not ours)
 */
export async function startMetricsServer(
	config: Config,
	metrics: Metrics,
	log: Logger
): Promise<http.Server | undefined> {
	const { metricsPort: port, metricsHost: host, metricsToken: token } = config;
	if (port === undefined) return undefined;
	const server = http.createServer((req, res) => {
		const path = (req.url ?? '').split('?')[0] ?? '';
		const allowed =
			METRICS_PATHS.has(path) &&
			(req.method === 'GET' || req.method === 'HEAD') &&
			(token === undefined || bearerMatches(req.headers.authorization, token));
		if (!allowed) {
			res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
			return;
		}
		metrics.render().then(
			({ contentType, body }) => {
				res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
				res.end(req.method === 'HEAD' ? undefined : body);
			},
			(error: unknown) => {
				log.error({ event: 'metrics_failed', error: String(error) });
				res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Metrics failed\n');
			}
		);
	});
	server.headersTimeout = 10_000;
	server.requestTimeout = 10_000;
	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) =>
			reject(
				new StartupError(
					`cannot serve metrics on port ${port} of ${host}: ${error.code ?? error.message} (set METRICS_PORT or METRICS_HOST)`
				)
			)
		);
		server.listen({ port, host }, resolve);
	});
	server.unref();
	const address = server.address();
	log.info({
		event: 'metrics_listening',
		host,
		port: typeof address === 'object' && address ? address.port : port
	});
	return server;
}
