/** What playwright.config.ts, the global setup and the specs agree on. */

/** Fixed, so the config's baseURL and the server started in global-setup.ts agree. */
export const E2E_PORT = 4173;

/** A small limit, so "too large" is cheap to test: 1 MiB. */
export const E2E_MAX_FILE_SIZE = 1024 * 1024;

export const E2E_ENV: Record<string, string> = {
	HOST: '127.0.0.1',
	NODE_ENV: 'production',
	MAX_FILE_SIZE: String(E2E_MAX_FILE_SIZE),
	// Every test uploads from 127.0.0.1; the default 30/hour would run out across a run.
	UPLOAD_RATE_LIMIT: '1000/hour',
	LOOKUP_RATE_LIMIT: '100000/hour',
	HEALTH_RATE_LIMIT: '100/second',
	// The wrong-passphrase tests must not block the address for the tests after them.
	DOWNLOAD_FAIL_LIMIT: '50'
};
