import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRedis, startServer } from '../helpers/processes.js';
import { E2E_ENV } from './settings';

/*
 * What a hostile web page can make its visitor's Chromium do to Raven Zero, against a server of
 * its own with the default limit of 10 unknown passphrases before a block. The hostile page is
 * served by a tiny server and opened as http://localhost:<port>, while Raven Zero is
 * http://127.0.0.1:<port>: two sites (a different port on the same host would be the same
 * site), so Chromium sends `Sec-Fetch-Site: cross-site` as it would from any other web site.
 * Each way spends 12 guesses unless stopped (the limit is 10); afterwards the visitor must
 * still be able to check a real drop.
 */

const FAIL_LIMIT = 10;

let server: Awaited<ReturnType<typeof startServer>>;
let redis: Awaited<ReturnType<typeof startRedis>>;
let hostile: http.Server;
let hostileOrigin: string;
/** The page the hostile server sends next. */
let hostileHtml = '';

/** Passphrases of real words that no drop has (malformed ones are never sent). */
const WORDS = ['able', 'ablaze', 'abnormal', 'abrasion', 'abrasive', 'abreast'];
const ENDINGS = ['abide', 'abiding', 'ability', 'absence'];
const guesses = (count: number) =>
	Array.from({ length: count }, (_, i) => `abacus-abdomen-${WORDS[i % 6]}-${ENDINGS[(i / 6) | 0]}`);
const GUESSES = guesses(12);

test.beforeAll(async () => {
	redis = await startRedis();
	server = await startServer({
		...E2E_ENV,
		REDIS_URL: redis.url,
		DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT)
	});
	hostile = http.createServer((_req, res) => {
		res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		res.end(hostileHtml);
	});
	await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
	hostileOrigin = `http://localhost:${(hostile.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
	await new Promise((resolve) => hostile?.close(resolve));
	await server?.stop();
	await redis?.stop();
});

// Every test starts with no failures counted and no drops.
test.beforeEach(async () => {
	await redis.client().flushall();
});

/** Requests for Raven Zero's lookups sent from anywhere in the context (frames, popups too). */
function recordLookups(context: BrowserContext, path: RegExp): Request[] {
	const seen: Request[] = [];
	context.on('request', (request) => {
		const url = new URL(request.url());
		if (url.origin === server.url && path.test(url.pathname + url.search)) seen.push(request);
	});
	return seen;
}

/** A drop to check, made as curl would (uploads are not lookups): its passphrase. */
async function realDrop(page: Page): Promise<string> {
	const upload = await page.request.post(`${server.url}/upload/`, {
		multipart: {
			file: { name: 'real.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('x') }
		}
	});
	expect(upload.status()).toBe(201);
	return ((await upload.json()) as { key: string }).key;
}

/** The visitor, on Raven Zero itself afterwards, checks a real drop: not blocked. */
async function visitorStillChecks(context: BrowserContext): Promise<void> {
	const page = await context.newPage();
	const passphrase = await realDrop(page);
	await page.goto(`${server.url}/r`);
	await expect(page.locator('body.js')).toBeAttached();
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toHaveText('real.bin');
}

test('frames of another site on page load spend no guesses', async ({ browser }) => {
	test.setTimeout(90_000);
	const context = await browser.newContext();
	const lookups = recordLookups(context, /^\/download\//);
	hostileHtml = GUESSES.map(
		(guess) => `<iframe src="${server.url}/download/${guess}"></iframe>`
	).join('\n');
	const page = await context.newPage();
	await page.goto(hostileOrigin);
	await expect.poll(() => lookups.length).toBe(12);
	for (const request of lookups) {
		// What Chromium sends for a frame of another site: a cross-site navigation into an iframe.
		const headers = await request.allHeaders();
		expect(headers).toMatchObject({
			'sec-fetch-site': 'cross-site',
			'sec-fetch-mode': 'navigate',
			'sec-fetch-dest': 'iframe'
		});
		expect((await request.response())?.status()).toBe(403);
	}
	await visitorStillChecks(context);
	await context.close();
});

test('a popup opened on one click and navigated from guess to guess spends no guesses', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const context = await browser.newContext();
	const lookups = recordLookups(context, /^\/download\//);
	// One click opens the first guess; the page then navigates the window it holds, as it may
	// without further clicks, faster than our answers arrive (Chromium sent all of these before
	// the first answer when only Cross-Origin-Opener-Policy stood in the way).
	hostileHtml = `<button id="go">Win a prize</button>
<script>
	const guesses = ${JSON.stringify(guesses(20).map((guess) => `${server.url}/download/${guess}`))};
	document.getElementById('go').onclick = async () => {
		window.popup = window.open(guesses[0]);
		for (const url of guesses.slice(1)) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			try { window.popup.location = url; } catch {}
		}
		document.title = 'sent';
	};
</script>`;
	const page = await context.newPage();
	await page.goto(hostileOrigin);
	await page.click('#go');
	await expect(page).toHaveTitle('sent', { timeout: 30_000 });
	// Once our answer is in the window, Cross-Origin-Opener-Policy cuts the opener off: the
	// window it holds reads as closed, and it can navigate it no further.
	await expect
		.poll(() => page.evaluate(() => (window as unknown as { popup: Window }).popup.closed))
		.toBe(true);
	expect(lookups.length).toBeGreaterThan(0);
	for (const request of lookups) {
		const response = await request.response();
		// Refused, or given up by the browser for the next navigation (then refused as well).
		if (response) expect(response.status()).toBe(403);
	}
	await visitorStillChecks(context);
	await context.close();
});

test('a share link checks by itself at most 3 times in 30 minutes, then asks for a press of Check', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const context = await browser.newContext({ baseURL: server.url });
	const checks = recordLookups(context, /^\/r\?\/check/);
	const guess = 'abacus abdomen abide ability';

	for (let visit = 1; visit <= 5; visit++) {
		const page = await context.newPage();
		await page.goto(`/r#${encodeURIComponent(guess)}`);
		await expect(page.locator('body.js')).toBeAttached();
		await expect(page.getByLabel('Passphrase')).toHaveValue(guess);
		if (visit <= 3) {
			await expect(page.getByRole('alert')).toContainText('No drop has this passphrase');
			await expect(page.getByTestId('not-auto-checked')).toHaveCount(0);
		} else {
			await expect(page.getByTestId('not-auto-checked')).toContainText(
				'already checked 3 share links by itself in the last half hour'
			);
			await expect(page.getByRole('alert')).toHaveCount(0);
		}
		await page.close();
	}
	expect(checks.map((request) => request.method())).toEqual(['POST', 'POST', 'POST']);

	// Over budget, the person's own press still checks.
	const page = await context.newPage();
	await page.goto(`/r#${encodeURIComponent(guess)}`);
	await expect(page.getByTestId('not-auto-checked')).toBeVisible();
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByRole('alert')).toContainText('No drop has this passphrase');
	await expect(page.getByTestId('not-auto-checked')).toHaveCount(0);
	expect(checks).toHaveLength(4);
	await context.close();
});
