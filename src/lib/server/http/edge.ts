/**
 * What the entry point (server/index.js, outside the bundle) needs from the bundle: the one
 * logger, for the access lines of the static assets it serves before Kit runs and for its own
 * start and stop lines. Published on a global symbol because the entry point imports
 * build/handler.js, not our modules.
 */
import { EDGE_KEY } from '../../../../server/shared.js';
import { log } from '../log';

export type Edge = {
	logStaticRequest(fields: {
		request_id: string;
		method: string;
		status_code: number;
		duration: number;
	}): void;
	logInfo(fields: Record<string, unknown> & { event: string }): void;
};

export function publishEdge(): void {
	const edge: Edge = {
		logStaticRequest: (fields) => log().info({ event: 'request', path: '(static)', ...fields }),
		logInfo: (fields) => log().info(fields)
	};
	(globalThis as Record<symbol, unknown>)[EDGE_KEY] = edge;
}
