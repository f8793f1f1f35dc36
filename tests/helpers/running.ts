/**
 * The setup most test files share: a redis-server of their own and the built server on it,
 * started before the file's (or the describe block's) tests and stopped after them.
 *
 *     const { server, redis } = serverForTests({ UPLOAD_RATE_LIMIT: '3/minute' });
 *     test('…', async () => { await fetch(`${server.url}/health/`); });
 *
 * `server` and `redis` are stand-ins that forward to the processes once `beforeAll` has
 * started them, so a test reads them as plain values and the file writes no hooks.
 */
import { afterAll, beforeAll } from 'vitest';
import { startRedis, startServer } from './processes.js';
import type { ServerOptions, TestRedis, TestServer } from './processes.js';

export interface ServerForTestsOptions extends ServerOptions {
	/** `memory`: no Redis at all, the server keeps its in-process store. */
	store?: 'redis' | 'memory';
	/** Runs before the server stops (for example to end a download that stalls on purpose). */
	beforeStop?: () => void;
}

export interface RunningForTests {
	server: TestServer;
	/** Undefined inside the stand-in when the store is `memory`. */
	redis: TestRedis;
}

/**
 * Start a Redis (unless `store: 'memory'`) and the server with `env` on top of the defaults
 * in `beforeAll`, stop both in `afterAll`. Call it at the top of a file or a describe block.
 */
export function serverForTests(
	env: Record<string, string> = {},
	{ store = 'redis', beforeStop, ...serverOptions }: ServerForTestsOptions = {}
): RunningForTests {
	let redis: TestRedis | undefined;
	let server: TestServer | undefined;
	beforeAll(async () => {
		if (store === 'redis') redis = await startRedis();
		server = await startServer(
			{ ...(redis ? { REDIS_URL: redis.url } : {}), ...env },
			serverOptions
		);
	});
	afterAll(async () => {
		beforeStop?.();
		await server?.stop();
		await redis?.stop();
	});
	return {
		server: standIn('the server', () => server),
		redis: standIn('redis-server', () => redis)
	};
}

/** An object that forwards every property read to `current()`, bound to it. */
function standIn<T extends object>(what: string, current: () => T | undefined): T {
	return new Proxy({} as T, {
		get(_, property) {
			const target = current();
			if (!target) throw new Error(`${what} is not running: use it inside a test or a hook`);
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
}
