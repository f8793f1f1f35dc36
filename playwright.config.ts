import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/*
 * End-to-end tests drive Debian's Chromium (/usr/bin/chromium) against the BUILT app, the way
 * production runs it (`node server/index.js`). Playwright's own browser downloads are never
 * used: these machines have no route to them. `npm test` builds first; this file never does.
 */

const PORT = 4173;
const BASE_URL = `http://127.0.0.1:${PORT}`;
/** Fixed, so the server started here and the tests agree on it without passing state. */
const DATA_DIR = path.join(tmpdir(), 'raven-zero-e2e');

export default defineConfig({
	testDir: 'tests/e2e',
	// One server, one in-process store, two cores: running files side by side buys nothing.
	workers: 1,
	fullyParallel: false,
	forbidOnly: !!process.env.CI,
	retries: 0,
	reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
	use: {
		baseURL: BASE_URL,
		browserName: 'chromium',
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath: '/usr/bin/chromium',
			// --no-sandbox: CI runs as root, where Chromium refuses its sandbox. The rest keep
			// Chromium from phoning home (updates, sync, field trials), which on a closed network
			// only adds noise and delays to every launch.
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync'
			]
		}
	},
	webServer: {
		command: 'node server/index.js',
		url: `${BASE_URL}/health/`,
		// A server already on this port is somebody else's (or a stale one): fail loudly rather
		// than test the wrong build.
		reuseExistingServer: false,
		timeout: 30_000,
		stdout: 'ignore',
		stderr: 'pipe',
		// SIGTERM lets server/index.js run its graceful shutdown (jobs stopped, log flushed).
		gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
		env: {
			PORT: String(PORT),
			HOST: '127.0.0.1',
			// Empty means unset to config.ts: the in-process store, even if the caller's
			// environment names a Redis server.
			REDIS_URL: '',
			STORAGE_PATH: path.join(DATA_DIR, 'uploads'),
			TEMP_PATH: path.join(DATA_DIR, 'temp'),
			LOG_PATH: path.join(DATA_DIR, 'logs', 'raven_zero.log'),
			// Playwright polls /health/ while the server starts; the default 1/second would
			// answer some polls with 429.
			HEALTH_RATE_LIMIT: '100/second',
			NODE_ENV: 'production'
		}
	}
});
