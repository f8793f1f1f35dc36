import { readFile } from 'node:fs/promises';
import { expect, test, type Browser } from '@playwright/test';
import { E2E_MAX_FILE_SIZE } from './settings';
import {
	actionAnswer,
	dropFile,
	expectAccessible,
	messy,
	NO_PROBLEMS,
	open,
	passphraseOn,
	randomFile,
	sha256,
	throttleUploads,
	uploadThroughApi,
	watchProblems,
	withoutExpectedHttpErrors
} from './support';

/*
 * The two pages against the built server and a real Redis (see global-setup.ts): send by
 * dropping a file, retrieve in another browser context as the recipient would, with and
 * without JavaScript, and scan every state with axe-core.
 */

async function recipientPage(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
	const context = await browser.newContext({ acceptDownloads: true, ...options });
	return { context, page: await context.newPage() };
}

test('send by dropping a file, then retrieve it messily typed in another browser', async ({
	page,
	browser
}) => {
	// Two pages, two keys derived in workers and three axe scans, on two shared cores: 35 s
	// at a moderate load, and it still passed every check at 2.1 min with the load at 20.
	test.setTimeout(180_000);
	const problems = await watchProblems(page);
	const file = randomFile('holiday notes.bin', 600 * 1024);
	await open(page, '/');
	await throttleUploads(page, 400 * 1024);

	await dropFile(page, 'label:has(input[type=file])', file);
	await expect(page.getByText('holiday notes.bin')).toBeVisible();
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();

	// The progress bar with its numbers, while the bytes are still going.
	const progress = page.getByRole('progressbar');
	await expect(progress).toBeVisible();
	await expect(page.getByText(/Uploading… \d+ %/)).toBeVisible();
	await expect(page.getByText(/KiB of 600 KiB/)).toBeVisible();

	await expect(page.getByRole('heading', { name: 'Your file is ready to pick up' })).toBeVisible({
		timeout: 15_000
	});
	await expect(page.getByRole('heading', { name: 'Your file is ready to pick up' })).toBeFocused();
	const passphrase = await passphraseOn(page);
	await expect(page.getByTestId('share-link')).toHaveText(
		new RegExp(`/r#${passphrase}$`.replaceAll('/', '\\/'))
	);
	await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
	await expect(page.getByText(sha256(file.buffer))).toBeVisible();
	await expect(page.getByRole('timer')).toHaveText(/^(9|10):\d\d/);
	await expectAccessible(page, 'send page, result');

	// The recipient, in a browser that shares nothing with the sender's.
	const recipient = await recipientPage(browser);
	const recipientProblems = await watchProblems(recipient.page);
	await open(recipient.page, '/r');
	await recipient.page.getByLabel('Passphrase').fill(messy(passphrase));
	await expect(recipient.page.getByText('4 words, all in the list.')).toBeAttached();
	await recipient.page.getByRole('button', { name: 'Check what is waiting' }).click();

	await expect(recipient.page.getByTestId('drop-filename')).toHaveText('holiday notes.bin');
	await expect(recipient.page.getByText('600 KiB')).toBeVisible();
	await expect(recipient.page.getByTestId('uses-left')).toHaveText('1');
	// The last use says what it does before it is spent.
	const download = recipient.page.getByRole('button', {
		name: 'Download (last use: downloading destroys it)'
	});
	await expect(download).toBeVisible();
	await expect(recipient.page.getByText('This is the last download allowed')).toBeVisible();
	await expectAccessible(recipient.page, 'retrieval page, drop details');

	const saved = recipient.page.waitForEvent('download');
	await download.click();
	const received = await saved;
	expect(received.suggestedFilename()).toBe('holiday notes.bin');
	const bytes = await readFile((await received.path())!);
	expect(bytes.equals(file.buffer)).toBe(true);

	await expect(recipient.page.getByTestId('download-sha256')).toHaveText(sha256(file.buffer));
	await expect(recipient.page.getByText('That was the last download allowed')).toBeVisible();
	// The one who took it is told what happened, not that someone else may have.
	await expect(recipient.page.getByText('Already taken: this drop is burned')).toHaveCount(0);
	await expectAccessible(recipient.page, 'retrieval page, after the download');

	// Anyone asking again learns it is gone, and what that means.
	const late = await recipientPage(browser);
	await open(late.page, '/r');
	await late.page.getByLabel('Passphrase').fill(passphrase);
	await late.page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(late.page.getByText('Already taken: this drop is burned')).toBeVisible();
	await expect(late.page.getByText('the passphrase has leaked')).toBeVisible();

	expect(problems).toEqual(NO_PROBLEMS);
	expect(recipientProblems).toEqual(NO_PROBLEMS);
	await recipient.context.close();
	await late.context.close();
});

test('a second download attempt of a one-use drop is told it is burned', async ({
	browser,
	request
}) => {
	test.setTimeout(60_000); // two browsers, each deriving its key in a worker
	const file = randomFile('once.bin', 2048);
	const passphrase = await uploadThroughApi(request, file, { uses: 1 });
	const first = await recipientPage(browser);
	const second = await recipientPage(browser);
	const secondProblems = await watchProblems(second.page);
	for (const { page } of [first, second]) {
		await open(page, '/r');
		await page.getByLabel('Passphrase').fill(passphrase);
		await page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(page.getByTestId('uses-left')).toHaveText('1');
	}
	const saved = first.page.waitForEvent('download');
	await first.page.getByRole('button', { name: /^Download/ }).click();
	expect((await readFile((await (await saved).path())!)).equals(file.buffer)).toBe(true);

	// The second browser still shows the button from its check; the server says no.
	await second.page.getByRole('button', { name: /^Download/ }).click();
	await expect(second.page.getByRole('alert').first()).toContainText('burned');
	await expect(
		second.page.getByText('If that was not you, the passphrase has leaked')
	).toBeVisible();
	expect(withoutExpectedHttpErrors(secondProblems, [410])).toEqual(NO_PROBLEMS);
	await first.context.close();
	await second.context.close();
});

test('a drop allowed twice counts its downloads down and warns before the last', async ({
	page,
	request
}) => {
	const file = randomFile('twice.bin', 4096);
	const passphrase = await uploadThroughApi(request, file, { uses: 2 });
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	// Enter in the passphrase field checks (it never downloads).
	await page.getByLabel('Passphrase').press('Enter');
	await expect(page.getByRole('button', { name: 'Download (2 uses left)' })).toBeVisible();
	const saved = page.waitForEvent('download');
	await page.getByRole('button', { name: 'Download (2 uses left)' }).click();
	await saved;
	await expect(page.getByText('1 download left.')).toBeVisible();
	await expect(
		page.getByRole('button', { name: 'Download (last use: downloading destroys it)' })
	).toBeVisible();
});

test('the share link fills in the passphrase and leaves no trace in the address bar', async ({
	page,
	request
}) => {
	const passphrase = await uploadThroughApi(request, randomFile('shared.bin', 100));
	const sent: string[] = [];
	page.on('request', (req) => sent.push(req.url()));
	await open(page, `/r#${passphrase}`);
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);
	await expect(page).toHaveURL(/\/r$/);
	// Checked on arrival, without a press of Check.
	await expect(page.getByTestId('drop-filename')).toHaveText('shared.bin');
	for (const url of sent) expect(url).not.toContain(passphrase);
});

test('a mistyped word gets a suggestion that fixes it', async ({ page, request }) => {
	const passphrase = await uploadThroughApi(request, randomFile('typo.bin', 100));
	const words = passphrase.split('-');
	// Swap two letters of the second word: one edit away.
	const word = words[1]!;
	const typo = word.slice(0, -2) + word.at(-1) + word.at(-2);
	test.skip(typo === word, 'the word ends in a double letter');
	const typed = [words[0], typo, ...words.slice(2)].join(' ');

	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(typed);
	await expect(page.getByText('One word is not in the word list.')).toBeAttached();
	const suggestions = page.getByRole('group', { name: `Suggestions for ${typo}` });
	await expect(suggestions).toBeVisible();
	await expectAccessible(page, 'retrieval page, suggestions');
	await suggestions.getByRole('button', { name: word, exact: true }).click();
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);
	await expect(page.getByLabel('Passphrase')).toBeFocused();
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toHaveText('typo.bin');
});

test('an unknown passphrase is refused with a warning about blocks', async ({ page }) => {
	const problems = await watchProblems(page);
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill('abacus abdomen abdominal abide');
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	const alert = page.getByRole('alert');
	await expect(alert).toContainText('No drop has this passphrase');
	await expect(alert).toContainText('block');
	await expectAccessible(page, 'retrieval page, unknown passphrase');
	expect(withoutExpectedHttpErrors(problems, [404])).toEqual(NO_PROBLEMS);
});

/** Whether a request is the retrieval page's check action. */
function isCheck(url: URL): boolean {
	return url.pathname === '/r' && url.search === '?/check';
}

test('a blocked address is told how long the block lasts', async ({ page }) => {
	// The check action's answer when the block is found under the lookup gate.
	await page.route(isCheck, (route) =>
		route.fulfill({
			status: 200,
			contentType: 'application/json',
			body: actionAnswer('failure', 429, {
				passphrase: 'abacus abdomen abdominal abide',
				info: null,
				failure: {
					status: 429,
					code: 'TOO_MANY_FAILED_LOOKUPS',
					message:
						'Too many unknown passphrases from this address. It is blocked for 14 more minute(s).',
					retryAfter: 840
				}
			})
		})
	);
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill('abacus abdomen abdominal abide');
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByRole('alert')).toContainText('Blocked for a while');
	await expect(page.getByRole('alert')).toContainText('blocked for 14 minutes more');
});

test('a block refused before the check action ran is still shown as a block', async ({ page }) => {
	// The rate-limit handle answers an enhanced post with the API's JSON error (no action result).
	await page.route(isCheck, (route) =>
		route.fulfill({
			status: 429,
			headers: { 'Retry-After': '840', 'Content-Type': 'application/json' },
			body: JSON.stringify({
				error_code: 'TOO_MANY_FAILED_LOOKUPS',
				detail:
					'Too many unknown passphrases from this address. It is blocked for 14 more minute(s).'
			})
		})
	);
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill('abacus abdomen abdominal abide');
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByRole('alert')).toContainText('Blocked for a while');
	await expect(page.getByRole('alert')).toContainText('lookups from it are blocked');
});

test('Check goes through the check action, enhanced: no JSON lookup, no reload', async ({
	page,
	request
}) => {
	const file = randomFile('through-the-action.bin', 1000);
	const passphrase = await uploadThroughApi(request, file, { uses: 2 });
	await open(page, '/r');
	const posts: string[] = [];
	const lookups: string[] = [];
	page.on('request', (req) => {
		const url = new URL(req.url());
		if (req.method() === 'POST') posts.push(`${url.pathname}${url.search} ${req.resourceType()}`);
		if (url.pathname.startsWith('/status')) lookups.push(url.pathname);
	});
	page.on('framenavigated', (frame) => {
		if (frame === page.mainFrame()) posts.push(`navigated to ${frame.url()}`);
	});

	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toHaveText('through-the-action.bin');
	await expect(page.getByTestId('uses-left')).toHaveText('2');
	// The action's answer, as a browser without JavaScript gets it (the SHA-256 included).
	await expect(page.getByText(sha256(file.buffer))).toBeVisible();
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);

	expect(posts).toEqual(['/r?/check fetch']);
	expect(lookups).toEqual([]);
});

test('a file over the limit is refused before a byte is sent', async ({ page }) => {
	const uploads: string[] = [];
	page.on('request', (req) => {
		if (req.method() === 'POST') uploads.push(req.url());
	});
	await open(page, '/');
	await expect(page.getByText('Up to 1 MiB')).toBeVisible();
	await dropFile(page, 'label:has(input[type=file])', randomFile('big.bin', E2E_MAX_FILE_SIZE + 1));
	const alert = page.getByRole('alert');
	await expect(alert).toContainText('big.bin');
	await expect(alert).toContainText('accepts files up to 1 MiB');
	await expect(alert).toContainText('Nothing was uploaded');
	// Said once, and Upload is off until another file is chosen (tests/e2e/sender.spec.ts).
	await expect(page.getByRole('button', { name: 'Upload and get a passphrase' })).toBeDisabled();
	expect(uploads).toEqual([]);
	await expectAccessible(page, 'send page, refused');
});

/*
 * Each refusal as it reaches the page: the API's JSON error from a hook that refused before
 * the send action ran (the upload limit, its store), the action's own answer (disk space,
 * file type), or a proxy's page.
 */
const REFUSALS = [
	{
		status: 429,
		headers: { 'Retry-After': '1800' },
		body: {
			error_code: 'RATE_LIMITED',
			detail: 'Too many uploads from this address. Try again in 1800 s.'
		},
		sentence: 'Too many uploads from this address. Try again in 30 minutes.'
	},
	{
		status: 507,
		headers: {},
		answeredBy: 'action',
		body: {
			error_code: 'INSUFFICIENT_STORAGE',
			detail: 'The server is low on disk space. Try again later.'
		},
		sentence: 'The server is low on disk space. Try again later.'
	},
	{
		status: 503,
		headers: {},
		body: {
			error_code: 'STORE_UNAVAILABLE',
			detail: 'The service cannot reach its database right now. Try again shortly.'
		},
		sentence: 'The service cannot reach its database right now.'
	},
	{
		status: 415,
		headers: {},
		answeredBy: 'action',
		body: {
			error_code: 'UNSUPPORTED_FILE_TYPE',
			detail: 'Files of type application/x-msdownload are not accepted here. Allowed: image/png.'
		},
		sentence: 'Files of type application/x-msdownload are not accepted here.'
	},
	// A proxy in front may answer 413 with its own HTML page.
	{
		status: 413,
		headers: {},
		body: '<html>Request Entity Too Large</html>',
		sentence: 'The file is larger than this server accepts.'
	}
] as const;

/** The reply a refusal reaches the send page with. */
function replyFor(refusal: (typeof REFUSALS)[number]) {
	if ('answeredBy' in refusal) {
		const { error_code: code, detail: message } = refusal.body;
		return {
			status: 200,
			contentType: 'application/json',
			body: actionAnswer('failure', refusal.status, {
				sent: null,
				failure: { status: refusal.status, code, message }
			})
		};
	}
	return {
		status: refusal.status,
		headers: {
			...refusal.headers,
			'Content-Type': typeof refusal.body === 'string' ? 'text/html' : 'application/json'
		},
		body: typeof refusal.body === 'string' ? refusal.body : JSON.stringify(refusal.body)
	};
}

for (const refusal of REFUSALS) {
	test(`an upload refused with ${refusal.status} says why in a sentence`, async ({ page }) => {
		// The page sends to its own action (POST /), as its form does without JavaScript.
		await page.route(
			(url) => url.pathname === '/',
			(route) =>
				route.request().method() === 'POST' ? route.fulfill(replyFor(refusal)) : route.fallback()
		);
		await open(page, '/');
		await dropFile(page, 'label:has(input[type=file])', randomFile('refused.bin', 1000));
		await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
		await expect(page.getByRole('alert')).toContainText(refusal.sentence);
	});
}

test('with JavaScript the page sends to its own action too, not to the API', async ({ page }) => {
	await open(page, '/');
	const posts: string[] = [];
	page.on('request', (req) => {
		const url = new URL(req.url());
		if (req.method() === 'POST') posts.push(`${url.pathname}${url.search} ${req.resourceType()}`);
	});
	await dropFile(page, 'label:has(input[type=file])', randomFile('to-the-action.bin', 2000));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await passphraseOn(page);
	await expect(page.getByText('to-the-action.bin · 2 KiB')).toBeVisible();
	// One XHR (for its upload progress) to the default action the no-JS form posts to.
	expect(posts).toEqual(['/ xhr']);
});

test('an upload can be cancelled while it runs', async ({ page }) => {
	test.setTimeout(90_000); // the key, an axe scan and the Cancel within 45 s of upload
	await open(page, '/');
	// 45 s of upload: the axe scan took over 18 s at a load average of 22 on two cores, and the
	// upload must still be running when it ends. A Cancel ends it early however long it was.
	await throttleUploads(page, 20 * 1024);
	await dropFile(page, 'label:has(input[type=file])', randomFile('slow.bin', 900 * 1024));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('progressbar')).toBeVisible();
	await expectAccessible(page, 'send page, uploading');
	await page.getByRole('button', { name: 'Cancel upload' }).click();
	await expect(page.getByText('Upload cancelled. Nothing was kept.')).toBeVisible();
	await expect(page.getByRole('progressbar')).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Upload and get a passphrase' })).toBeVisible();
});

test('text typed in the Text tab is sent as message.txt', async ({ page, browser }) => {
	await open(page, '/');
	await page.getByRole('tab', { name: 'Text' }).click();
	await page.getByLabel('Text to send').fill('the door code is 4711');
	await page.getByRole('radio', { name: '3' }).check();
	await page.getByLabel('Destroy after').selectOption('5');
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	const passphrase = await passphraseOn(page);
	await expect(page.getByText('3 downloads')).toBeVisible();
	await expect(page.getByRole('timer')).toHaveText(/^[45]:\d\d/);

	const recipient = await recipientPage(browser);
	await open(recipient.page, `/r#${passphrase}`);
	await recipient.page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(recipient.page.getByTestId('drop-filename')).toHaveText('message.txt');
	await expect(recipient.page.getByTestId('uses-left')).toHaveText('3');
	await recipient.context.close();
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('send through the plain form, then check and download through plain forms', async ({
		page,
		browser
	}) => {
		const file = randomFile('no-script.bin', 50 * 1024);
		await page.goto('/');
		await expect(page.getByRole('tab')).toHaveCount(0);
		await page.getByLabel(/Drop a file here/).setInputFiles(file);
		await page.getByLabel('Destroy after').selectOption('15');
		await page.getByRole('radio', { name: '2' }).check();
		await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();

		const passphrase = await passphraseOn(page);
		await expect(page.getByText('2 downloads')).toBeVisible();
		await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
		await expect(page.getByRole('link', { name: 'Send another file' })).toBeVisible();

		const recipient = await recipientPage(browser, { javaScriptEnabled: false });
		await recipient.page.goto('/r');
		await recipient.page.getByLabel('Passphrase').fill(messy(passphrase));
		await recipient.page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(recipient.page.getByTestId('drop-filename')).toHaveText('no-script.bin');
		await expect(recipient.page.getByTestId('uses-left')).toHaveText('2');
		await expect(recipient.page.getByText(sha256(file.buffer))).toBeVisible();

		const saved = recipient.page.waitForEvent('download');
		await recipient.page.getByRole('button', { name: 'Download (2 uses left)' }).click();
		const received = await saved;
		expect(received.suggestedFilename()).toBe('no-script.bin');
		expect((await readFile((await received.path())!)).equals(file.buffer)).toBe(true);

		await recipient.page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(recipient.page.getByTestId('uses-left')).toHaveText('1');
		await expect(
			recipient.page.getByRole('button', { name: 'Download (last use: downloading destroys it)' })
		).toBeVisible();
		await recipient.context.close();
	});

	test('a wrong word is named with suggestions by the server', async ({ page }) => {
		await page.goto('/r');
		await page.getByLabel('Passphrase').fill('abacus abdomen abdominall abide');
		await page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(page.getByText('"abdominall" is not in the word list')).toBeVisible();
		await expect(page.getByText('Did you mean abdominal?')).toBeVisible();
		await expect(page.getByLabel('Passphrase')).toHaveValue('abacus abdomen abdominall abide');
	});
});
