/**
 * The e2e tests run against the BUILT app with a REAL redis-server, both started here:
 * Playwright's `webServer` starts before globalSetup, so it could not be handed the port of
 * a Redis started here. Redis gets a free port and no persistence; the app gets the fixed
 * E2E_PORT (playwright.config.ts) and its own temporary folders. Never the machine's 6379.
 */
import { startRedis, startServer } from '../helpers/processes.js';
import { E2E_ENV, E2E_PORT } from './settings';

export default async function globalSetup(): Promise<() => Promise<void>> {
	const redis = await startRedis();
	let server;
	try {
		server = await startServer({
			...E2E_ENV,
			PORT: String(E2E_PORT),
			REDIS_URL: redis.url
		});
	} catch (error) {
		await redis.stop();
		throw error;
	}
	const store = server.lines.find((line) => line.event === 'started')?.store;
	if (store !== 'redis') {
		await server.stop();
		await redis.stop();
		throw new Error(`the e2e server started with the ${String(store)} store, not Redis`);
	}
	return async () => {
		await server.stop();
		await redis.stop();
	};
}
