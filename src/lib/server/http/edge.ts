/**
 * What the entry point (server/index.js, outside the bundle) needs from the bundle: the one
 * logger, for the access lines of the static assets it serves before Kit runs and for its own
 * start and stop lines, and the request histogram of the metrics. Published on a global symbol
 * because the entry point imports build/handler.js, not our modules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EDGE_KEY } from '../../../../server/shared.js';
import { log } from '../log';
import { noMetrics, type Metrics } from '../metrics';
import { ROUTE_ID } from './metrics-endpoint';

export type Edge = {
	logStaticRequest(fields: {
		request_id: string;
		method: string;
		status_code: number;
		duration: number;
	}): void;
	logInfo(fields: Record<string, unknown> & { event: string }): void;
	/** Measure a request until its connection is done with it (metrics off: nothing). */
	observeRequest(req: IncomingMessage, res: ServerResponse, startedAt: number): void;
};

export function publishEdge(metrics: Metrics = noMetrics): void {
	const edge: Edge = {
		logStaticRequest: (fields) => log().info({ event: 'request', path: '(static)', ...fields }),
		logInfo: (fields) => log().info(fields),
		observeRequest: metrics.enabled
			? (req, res, startedAt) => {
					res.once('close', () => {
						// Kit tagged the requests it handled (metrics-endpoint.ts); the others were
						// static files, served before Kit.
						const tag = (req as unknown as Record<symbol, string | null | undefined>)[ROUTE_ID];
						metrics.request({
							route: tag === undefined ? '(static)' : (tag ?? '(unmatched)'),
							method: req.method ?? '',
							status: res.writableFinished ? res.statusCode : 0,
							seconds: (performance.now() - startedAt) / 1000
						});
					});
				}
			: () => undefined
	};
	(globalThis as Record<symbol, unknown>)[EDGE_KEY] = edge;
}
