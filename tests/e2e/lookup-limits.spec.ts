import { expect, test, type Browser } from '@playwright/test';
import { startRedis, startServer } from '../helpers/processes.js';
import { E2E_ENV } from './settings';

/*
 * How the retrieval page words the lookup limits (issue #13, defect 8), against a server of
 * its own with small limits (the shared e2e server's are wide, so that other specs never hit
 * them): an unknown passphrase says once what happened and how many tries are left before a
 * block, the block is said once, and the rate limit without JavaScript says its wait once.
 * Each test is its own client address (ADDRESS_HEADER, as behind a proxy), so none of them
 * spends another's limits.
 */

const FAIL_LIMIT = 3;
const LOOKUPS_PER_HOUR = 5;

let server: Awaited<ReturnType<typeof startServer>>;
let redis: Awaited<ReturnType<typeof startRedis>>;

test.beforeAll(async () => {
	redis = await startRedis();
	server = await startServer({
		...E2E_ENV,
		REDIS_URL: redis.url,
		ADDRESS_HEADER: 'x-real-ip',
		DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT),
		DOWNLOAD_BLOCK_WINDOW: '900',
		LOOKUP_RATE_LIMIT: `${LOOKUPS_PER_HOUR}/hour`
	});
});

test.afterAll(async () => {
	await server?.stop();
	await redis?.stop();
});

async function clientPage(browser: Browser, address: string, javaScriptEnabled = true) {
	const context = await browser.newContext({
		baseURL: server.url,
		javaScriptEnabled,
		extraHTTPHeaders: { 'x-real-ip': address }
	});
	return { context, page: await context.newPage() };
}

test('each unknown passphrase says the tries left, once, until the block', async ({ browser }) => {
	test.setTimeout(120_000);
	const { context, page } = await clientPage(browser, '192.0.2.31');
	await page.goto('/r');
	await expect(page.locator('body.js')).toBeAttached();
	const field = page.getByLabel('Passphrase');
	const check = page.getByRole('button', { name: 'Check what is waiting' });
	const alert = page.getByRole('alert');

	const answers = [
		'Check each word for typos: after 2 more unknown passphrases from this network address, it is blocked for 15 minutes.',
		'Check each word for typos: after one more unknown passphrase from this network address, it is blocked for 15 minutes.',
		'That was the last try: lookups from this network address are now blocked for 15 minutes.'
	];
	const guesses = [
		'abacus abdomen abdominal abide',
		'abiding ability ablaze able',
		'abnormal abrasion abrasive abreast'
	];
	for (const [index, guess] of guesses.entries()) {
		await field.fill(guess);
		await check.click();
		await expect(alert).toContainText(answers[index]!);
		const text = (await alert.textContent()) ?? '';
		expect(text.match(/No drop has this passphrase/g)).toHaveLength(1);
		expect(text.match(/block/g)).toHaveLength(1);
	}
	// Blocked now: said once, with the wait.
	await field.fill('abridge abroad abruptly absence');
	await check.click();
	await expect(alert).toContainText('Blocked for a while');
	await expect(alert).toContainText(/blocked for 1[45] minutes more/);
	expect(((await alert.textContent()) ?? '').match(/block/gi)).toHaveLength(2); // title + sentence
	await context.close();
});

test('the no-JavaScript rate limit says its wait once', async ({ browser }) => {
	test.setTimeout(120_000);
	const { context, page } = await clientPage(browser, '192.0.2.32', false);
	// A drop to check, as curl makes it (uploads are not lookups).
	const upload = await page.request.post('/upload/', {
		multipart: {
			file: { name: 'limit.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('x') }
		}
	});
	expect(upload.status()).toBe(201);
	const { key } = (await upload.json()) as { key: string };

	await page.goto('/r');
	for (let lookup = 0; lookup < LOOKUPS_PER_HOUR; lookup++) {
		await page.getByLabel('Passphrase').fill(key);
		await page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(page.getByTestId('drop-filename')).toHaveText('limit.bin');
	}
	await page.getByLabel('Passphrase').fill(key);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	const alert = page.getByRole('alert');
	await expect(alert).toContainText('Slow down');
	await expect(alert).toContainText(/Try again in (59|60) minutes\./);
	const text = (await alert.textContent()) ?? '';
	expect(text).not.toContain('Wait a little');
	expect(text.match(/try again/gi)).toHaveLength(1);
	await context.close();
});
