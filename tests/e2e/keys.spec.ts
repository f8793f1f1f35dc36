import { readFile } from 'node:fs/promises';
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import {
	actionAnswer,
	dropFile,
	messy,
	NO_PROBLEMS,
	open,
	passphraseOn,
	randomFile,
	sha256,
	type TestFile,
	uploadThroughApi,
	watchProblems
} from './support';

/*
 * The pages with version-2 keys (issue #11) in Chromium against the built app: the send page
 * draws the passphrase and uploads with its access key, the retrieval page checks and downloads
 * with the key, both derived in the app's own Web Worker, so the passphrase never reaches the
 * server from a page. Interoperability with curl both ways, the redraw on 409 DROP_EXISTS, and
 * the "preparing the key" state.
 */

type Recorded = { method: string; url: string; headers: Record<string, string>; body: string };

/**
 * Record every request a context makes (pages and their workers): URL, all headers (as
 * Chromium sent them) and the body, byte for byte (latin1 keeps every byte one character).
 */
function recordRequests(context: BrowserContext) {
	const pending: Promise<Recorded>[] = [];
	const record = async (request: Request): Promise<Recorded> => ({
		method: request.method(),
		url: request.url(),
		headers: await request.allHeaders().catch(() => request.headers()),
		body: request.postDataBuffer()?.toString('latin1') ?? ''
	});
	context.on('request', (request) => pending.push(record(request)));
	return () => Promise.all(pending);
}

/** Letters only, lower case, after undoing URL and form encoding where it applies. */
function lettersOf(text: string): string {
	let decoded = text;
	try {
		decoded = decodeURIComponent(text.replace(/\+/g, ' '));
	} catch {
		// not URL-encoded as a whole; the raw text is checked too
	}
	return `${text} ${decoded}`
		.normalize('NFKC')
		.toLowerCase()
		.replace(/\P{L}+/gu, '');
}

/**
 * The passphrase in any normalisation (as shown, with spaces, upper case, without
 * separators, URL- or form-encoded) appears in none of `requests`: with every non-letter
 * removed from both, its words run together would still show.
 */
function expectNowhere(requests: Recorded[], passphrase: string) {
	const needle = passphrase.replace(/-/g, '');
	for (const request of requests) {
		const where = `${request.method} ${request.url}`;
		expect(lettersOf(request.url), `${where}: URL`).not.toContain(needle);
		for (const [name, value] of Object.entries(request.headers)) {
			expect(lettersOf(value), `${where}: header ${name}`).not.toContain(needle);
		}
		expect(lettersOf(request.body), `${where}: body`).not.toContain(needle);
	}
}

async function accessKeyOf(passphrase: string): Promise<string> {
	return encodeAccessKey(await accessKeyFromPassphrase(passphrase));
}

async function sendOnPage(page: Page, file: TestFile): Promise<string> {
	await open(page, '/');
	await dropFile(page, 'label:has(input[type=file])', file);
	await page.getByRole('radio', { name: '2' }).check();
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('heading', { name: 'Your file is ready to pick up' })).toBeVisible({
		timeout: 20_000
	});
	return passphraseOn(page);
}

async function checkOnPage(page: Page, typed: string, filename: string): Promise<void> {
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(typed);
	await expect(page.getByText('4 words, all in the list.')).toBeAttached();
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toHaveText(filename);
}

async function downloadOnPage(page: Page): Promise<Buffer> {
	const saved = page.waitForEvent('download');
	await page.getByRole('button', { name: /^Download/ }).click();
	return readFile((await (await saved).path())!);
}

test('a page sends and a page retrieves without the passphrase in any request', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const file = randomFile('never-sent.bin', 64 * 1024);

	const sender = await browser.newContext();
	const sent = recordRequests(sender);
	const senderPage = await sender.newPage();
	const senderProblems = await watchProblems(senderPage);
	const workers: string[] = [];
	senderPage.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
	const passphrase = await sendOnPage(senderPage, file);

	const recipient = await browser.newContext({ acceptDownloads: true });
	const received = recordRequests(recipient);
	const recipientPage = await recipient.newPage();
	const recipientProblems = await watchProblems(recipientPage);
	await checkOnPage(recipientPage, messy(passphrase), 'never-sent.bin');
	const bytes = await downloadOnPage(recipientPage);
	expect(bytes.equals(file.buffer)).toBe(true);
	await expect(recipientPage.getByTestId('download-sha256')).toHaveText(sha256(file.buffer));

	const senderRequests = await sent();
	const recipientRequests = await received();
	expectNowhere([...senderRequests, ...recipientRequests], passphrase);

	// What they sent instead: the access key of that passphrase, in each request naming the drop:
	// the upload, and the result card's status asks (drop-watch.svelte.ts), with empty bodies.
	const key = await accessKeyOf(passphrase);
	const senderPosts = senderRequests.filter(({ method }) => method === 'POST');
	const upload = senderPosts.filter(({ url }) => new URL(url).pathname === '/');
	expect(upload).toHaveLength(1);
	expect(upload[0]!.headers['x-access-key']).toBe(key);
	for (const ask of senderPosts.filter((post) => post !== upload[0])) {
		expect(new URL(ask.url).pathname).toBe('/status');
		expect(ask.headers['x-access-key']).toBe(key);
		expect(ask.body).toBe('');
	}
	const posts = recipientRequests.filter(({ method }) => method === 'POST');
	expect(posts.map(({ url }) => new URL(url).pathname + new URL(url).search)).toEqual([
		'/r?/check',
		'/download'
	]);
	expect(new URLSearchParams(posts[0]!.body).get('access_key')).toBe(key);
	expect(posts[1]!.headers['x-access-key']).toBe(key);
	expect(posts[1]!.body).toBe('');

	// Derived in the app's own worker, which runs under its own, strictest policy.
	expect(workers).toHaveLength(1);
	expect(workers[0]).toMatch(/^\/_app\/immutable\/workers\/access-key\.worker-[\w-]+\.js$/);
	const script = await senderPage.request.get(workers[0]!);
	expect(script.headers()['content-security-policy']).toBe("default-src 'none'");

	expect(senderProblems).toEqual(NO_PROBLEMS);
	expect(recipientProblems).toEqual(NO_PROBLEMS);
	await sender.close();
	await recipient.close();
});

test('a curl upload is retrieved on the page, a page upload by curl', async ({
	browser,
	request
}) => {
	test.setTimeout(90_000);
	// curl's way: the server draws the passphrase and derives the key.
	const fromCurl = randomFile('from-curl.bin', 3000);
	const curlPassphrase = await uploadThroughApi(request, fromCurl, { uses: 1 });
	const recipient = await browser.newContext({ acceptDownloads: true });
	const recipientPage = await recipient.newPage();
	await checkOnPage(recipientPage, curlPassphrase, 'from-curl.bin');
	expect((await downloadOnPage(recipientPage)).equals(fromCurl.buffer)).toBe(true);
	await recipient.close();

	// The page's way, fetched as the seed's clients do: the passphrase in the GET path.
	const sender = await browser.newContext();
	const fromPage = randomFile('from-page.bin', 5000);
	const pagePassphrase = await sendOnPage(await sender.newPage(), fromPage);
	const download = await request.get(`/download/${pagePassphrase}`);
	expect(download.status()).toBe(200);
	expect((await download.body()).equals(fromPage.buffer)).toBe(true);
	expect(download.headers()['x-sha256']).toBe(sha256(fromPage.buffer));
	await sender.close();
});

test('a drop already under the drawn key makes the page draw another passphrase', async ({
	page
}) => {
	const problems = await watchProblems(page);
	const keys: string[] = [];
	// The first upload is answered as the action answers a collision (409 DROP_EXISTS); the
	// second goes to the server.
	await page.route(
		(url) => url.pathname === '/',
		async (route) => {
			if (route.request().method() !== 'POST') return route.fallback();
			keys.push(route.request().headers()['x-access-key'] ?? '');
			if (keys.length > 1) return route.fallback();
			return route.fulfill({
				status: 200,
				contentType: 'application/json',
				body: actionAnswer('failure', 409, {
					sent: null,
					failure: {
						status: 409,
						code: 'DROP_EXISTS',
						message:
							'A drop already exists under this access key. Draw another passphrase and send again.'
					}
				})
			});
		}
	);
	const passphrase = await sendOnPage(page, randomFile('second-draw.bin', 1000));
	expect(keys).toHaveLength(2);
	expect(keys[0]).toMatch(/^[\w-]{43}$/);
	expect(keys[1]).not.toBe(keys[0]);
	// The passphrase shown is the second draw's.
	expect(keys[1]).toBe(await accessKeyOf(passphrase));
	await expect(page.getByRole('alert')).toHaveCount(0);
	expect(problems).toEqual(NO_PROBLEMS);
});

test('a slow key shows "preparing the key" on both pages, and they still finish', async ({
	page,
	request
}) => {
	test.setTimeout(90_000);
	// Hold the worker's script back, as a slow phone or network would hold back the first key.
	await page.route('**/_app/immutable/workers/**', async (route) => {
		await new Promise((resolve) => setTimeout(resolve, 2500));
		await route.fallback();
	});

	await open(page, '/');
	await dropFile(page, 'label:has(input[type=file])', randomFile('patience.bin', 1000));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Preparing the key…' })).toBeVisible();
	await passphraseOn(page);

	const passphrase = await uploadThroughApi(request, randomFile('patience-too.bin', 1000));
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByRole('button', { name: 'Preparing the key…' })).toBeVisible();
	await expect(page.getByTestId('drop-filename')).toHaveText('patience-too.bin', {
		timeout: 20_000
	});
});

test('a mistyped word is refused on the page, without a request', async ({ page, request }) => {
	const passphrase = await uploadThroughApi(request, randomFile('typo.bin', 100));
	await open(page, '/r');
	const posts: string[] = [];
	page.on('request', (req) => {
		if (req.method() === 'POST') posts.push(req.url());
	});
	const words = passphrase.split('-');
	await page.getByLabel('Passphrase').fill([words[0], 'zzzzqx', ...words.slice(2)].join(' '));
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	// A warning, not an error: role=status.
	const answer = page.getByRole('status').filter({ hasText: 'Check the words' });
	await expect(answer).toContainText('"zzzzqx" is not in the word list.');
	expect(posts).toEqual([]);
});

test('the access key is derived in the app worker in Chromium, and timed (N=2^14)', async ({
	page
}) => {
	test.setTimeout(120_000);
	const workers: string[] = [];
	page.on('worker', (worker) => workers.push(worker.url()));
	await open(page, '/r');
	await expect.poll(() => workers.length).toBe(1);
	// The app's own worker file, under its own policy, in a worker of the test's making.
	const times = await page.evaluate(async (url) => {
		const worker = new Worker(url, { type: 'module' });
		const derive = (id: number) =>
			new Promise<number>((resolve, reject) => {
				const started = performance.now();
				worker.onmessage = ({ data }: MessageEvent<{ ok: boolean }>) =>
					data.ok ? resolve(performance.now() - started) : reject(new Error('not derived'));
				worker.postMessage({ id, normalised: `abacus-abdomen-abide-able-${id}` });
			});
		const ms: number[] = [];
		for (let id = 0; id < 12; id++) ms.push(await derive(id));
		worker.terminate();
		return ms;
	}, workers[0]!);
	// The first two warm the worker up (module load, V8's optimising compiler).
	const warm = times.slice(2).sort((a, b) => a - b);
	const median = (warm[4]! + warm[5]!) / 2;
	test.info().annotations.push({
		type: 'timing',
		description: `first ${times[0]!.toFixed(0)} ms; warm median ${median.toFixed(0)} ms (min ${warm[0]!.toFixed(0)}, max ${warm.at(-1)!.toFixed(0)}) over ${warm.length} runs`
	});
	console.log(`access key in Chromium: ${test.info().annotations.at(-1)!.description}`);
	expect(median).toBeGreaterThan(0);
});
