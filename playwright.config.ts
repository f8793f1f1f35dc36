import { defineConfig } from '@playwright/test';
import { E2E_PORT } from './tests/e2e/settings';

/*
 * End-to-end tests drive Debian's Chromium (/usr/bin/chromium) against the BUILT app, the way
 * production runs it (`node server/index.js`), with a real redis-server behind it. Playwright's own browser downloads are never
 * used: these machines have no route to them. `npm test` builds first; this file never does.
 */

const BASE_URL = `http://127.0.0.1:${E2E_PORT}`;

export default defineConfig({
	projects: [
		{ name: 'e2e', testDir: 'tests/e2e' },
		// `npm run screenshots` only: it rewrites docs/screenshots/ (random passphrases each
		// time), and a test run must leave the working tree clean.
		{ name: 'screenshots', testDir: 'tests/screenshots', default: false }
	],
	// One server, one Redis, two cores: running files side by side buys nothing.
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
	// The built server and a private redis-server (see tests/e2e/global-setup.ts).
	globalSetup: './tests/e2e/global-setup.ts'
});
