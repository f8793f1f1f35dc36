import { building } from '$app/environment';
import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { CLEAN_SWEEP_MARK, clearStaleTemp } from '$lib/server/cleanup';
import { getConfig, type Config } from '$lib/server/config';
import { initWordlist } from '$lib/server/diceware';
import { accessLog } from '$lib/server/http/access-log';
import { cors } from '$lib/server/http/cors';
import { publishEdge } from '$lib/server/http/edge';
import { metricsEndpoint, startMetricsServer } from '$lib/server/http/metrics-endpoint';
import { jsonNotFound } from '$lib/server/http/not-found';
import { hostGuard, originGuard } from '$lib/server/http/origin-guard';
import { rateLimit } from '$lib/server/http/rate-limit';
import { requestId } from '$lib/server/http/request-id';
import { securityHeaders } from '$lib/server/http/security-headers';
import { kdfQueueLength } from '$lib/server/crypto/keys';
import { openFileStorage } from '$lib/server/files';
import { checkHealth } from '$lib/server/health';
import { startJobs } from '$lib/server/jobs';
import { initLog, log } from '$lib/server/log';
import { createMetrics, noMetrics, watchConnection } from '$lib/server/metrics';
import { quotaLimits, quotaUsage } from '$lib/server/quotas';
import { registerShutdown } from '$lib/server/shutdown';
import { startServices } from '$lib/server/services';
import { openStore } from '$lib/server/store';
import { RedisStore } from '$lib/server/store/redis';

const STORE_READY_TIMEOUT_MS = 3000;

/**
 * Start-up, in dependency order. Any StartupError (a bad variable, a missing word list)
 * propagates to server/index.js, which prints its one line and exits with code 1.
 */
export const init: ServerInit = async () => {
	if (building) return;
	const config = getConfig();
	await initLog();
	const files = await openFileStorage(config, log());
	await files.prepare();
	const words = initWordlist(config.dicewareWordlistPath);
	const store = openStore();
	// Give Redis a moment so the first heartbeat lands; if it is down we start degraded.
	if (!(await store.ready(STORE_READY_TIMEOUT_MS))) {
		log().error({ event: 'store_unavailable_at_start', store: store.kind });
	}
	// Metrics cost nothing unless an endpoint will serve them (METRICS_PORT or METRICS_TOKEN).
	const wantsMetrics = config.metricsPort !== undefined || config.metricsToken !== undefined;
	const metrics = wantsMetrics ? createMetrics() : noMetrics;
	const services = startServices({ config, log: log(), store, words, metrics, files });
	metrics.watch({
		checkHealth,
		kdfQueueLength,
		space: () => files.space(),
		lastCleanSweep: () => store.readHeartbeat(CLEAN_SWEEP_MARK),
		quota: async () => ({
			usage: await quotaUsage(store),
			limits: quotaLimits(config)
		}),
		storeUp: watchConnection(store instanceof RedisStore ? store.client : undefined, metrics)
	});
	await startMetricsServer(config, metrics, log());
	await clearStaleTemp(services).catch((error: unknown) =>
		log().error({ event: 'startup_temp_cleanup_failed', error: String(error) })
	);
	startJobs(services);
	publishEdge(metrics);
	registerShutdown();
	warnAboutTrust(config);
	log().info({
		event: 'started',
		store: store.kind,
		storage: files.kind,
		max_file_size: config.maxFileSize
	});
};

/** Settings that leave the service trusting what clients say; each is said once at start. */
function warnAboutTrust(config: Config): void {
	if (!config.origin) {
		log().warn({
			event: 'origin_unset',
			message:
				'ORIGIN is not set: the links in responses are built from the Host header each client sends. Set ORIGIN to the public URL.'
		});
	}
	if (config.addressHeader && ['0.0.0.0', '::', ''].includes(config.host)) {
		log().warn({
			event: 'address_header_on_all_interfaces',
			message: `ADDRESS_HEADER is set while HOST listens on every interface: a client that reaches the port directly can send any ${config.addressHeader}. Listen on the proxy's network only.`
		});
	}
}

// requestId first so everything after it can log the id; securityHeaders and accessLog wrap
// the rest so that refusals (403, 404, 429) carry the headers and get their log line too.
export const handle: Handle = sequence(
	requestId,
	securityHeaders,
	accessLog,
	metricsEndpoint,
	hostGuard,
	cors,
	originGuard,
	jsonNotFound,
	rateLimit
);

/** Unexpected errors: logged once with the request id; the client learns nothing internal. */
export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const requestId = event.locals.requestId ?? 'unknown';
	if (status >= 500) {
		log().error({
			event: 'unhandled_error',
			request_id: requestId,
			path: event.route.id ?? '(unmatched)',
			error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
			stack: error instanceof Error ? error.stack : undefined
		});
	}
	return {
		message: status >= 500 ? 'Something went wrong on our side.' : message,
		// REQUEST_FAILED is not in the API's catalogue: it is only ever rendered by the error page
		// (Kit's own 4xx on page routes other than 404); API routes answer with the catalogue.
		error_code: status >= 500 ? 'INTERNAL_ERROR' : status === 404 ? 'NOT_FOUND' : 'REQUEST_FAILED',
		detail: status >= 500 ? 'Something went wrong on our side.' : message,
		request_id: requestId
	};
};
