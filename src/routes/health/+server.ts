import type { RequestHandler } from './$types';
import { checkHealth } from '$lib/server/health';

/** `/health` and `/health/` answer the same (monitors are configured both ways). */
export const trailingSlash = 'ignore';

/** 200 when every service is usable, 503 when any is not; the body says which. */
export const GET: RequestHandler = async () => {
	const report = await checkHealth();
	return Response.json(report, { status: report.status === 'healthy' ? 200 : 503 });
};
