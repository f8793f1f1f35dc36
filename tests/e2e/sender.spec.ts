import { expect, test, type Page, type Request } from '@playwright/test';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { E2E_MAX_FILE_SIZE } from './settings';
import {
	dropFile,
	expectAccessible,
	NO_PROBLEMS,
	open,
	passphraseOn,
	randomFile,
	type TestFile,
	throttleUploads,
	watchProblems
} from './support';

/*
 * The send page after issue #13, in Chromium against the built app and a real Redis: the
 * result card follows the drop (POST /status by access key) and can destroy it, leaving
 * mid-upload is warned about and aborts, focus stays where the person is, settings hold still
 * during an upload, a file too large is said once, and the smaller things (numbers, title,
 * copy buttons, hyphens, the share sheet). Without JavaScript the card says a clock time.
 */

const READY = 'Your file is ready to pick up';

/** Drop `file` on the page, pick the uses and expiry, press Upload and wait for the card. */
async function send(
	page: Page,
	file: TestFile,
	{ uses = 1, expiry = 10 }: { uses?: number; expiry?: number } = {}
): Promise<string> {
	await open(page, '/');
	await dropFile(page, 'label:has(input[type=file])', file);
	await page.getByRole('radio', { name: String(uses) }).check();
	await page.getByLabel('Destroy after').selectOption(String(expiry));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('heading', { name: READY })).toBeVisible({ timeout: 20_000 });
	return passphraseOn(page);
}

async function accessKeyOf(passphrase: string): Promise<string> {
	return encodeAccessKey(await accessKeyFromPassphrase(passphrase));
}

type Lookup = { at: number; path: string; key: string | undefined; body: string; status: number };

/** Every POST /status and /destroy the page makes, with the answer's status. */
function recordLookups(page: Page): Lookup[] {
	const lookups: Lookup[] = [];
	page.on('requestfinished', (request: Request) => {
		const path = new URL(request.url()).pathname;
		if (request.method() !== 'POST' || (path !== '/status' && path !== '/destroy')) return;
		void request.response().then((response) =>
			lookups.push({
				at: Date.now(),
				path,
				key: request.headers()['x-access-key'],
				body: request.postData() ?? '',
				status: response?.status() ?? 0
			})
		);
	});
	return lookups;
}

/** The card's polite live region. */
const liveRegion = (page: Page) => page.getByTestId('card-news');

test('the card follows the drop by access key: downloads used, then taken with the time', async ({
	page,
	request
}) => {
	test.setTimeout(120_000);
	const problems = await watchProblems(page);
	const lookups = recordLookups(page);
	const passphrase = await send(page, randomFile('followed.bin', 4000), { uses: 2 });
	await expect(page).toHaveTitle('Ready to share — Raven Zero');
	const used = page.getByTestId('downloads-used');
	await expect(used).toHaveText('0 of 2 · 2 left');

	// The recipient takes one download (as curl would); the card learns it by itself.
	expect((await request.get(`/download/${passphrase}`)).status()).toBe(200);
	await expect(used).toHaveText('1 of 2 · 1 left', { timeout: 20_000 });
	// The live region says what changed in one sentence, not the whole card.
	await expect(liveRegion(page)).toHaveText('Downloaded: 1 of 2 used, 1 left.');
	await expect(page.getByRole('button', { name: 'Copy passphrase' })).toBeVisible();

	expect((await request.get(`/download/${passphrase}`)).status()).toBe(200);
	await expect(page.getByRole('heading', { name: 'Your file was taken' })).toBeVisible({
		timeout: 20_000
	});
	await expect(page.getByTestId('drop-ending')).toHaveText(
		/^The last download allowed was taken (at about \d\d:\d\d|between \d\d:\d\d and \d\d:\d\d)\. The file is destroyed on the server, and the passphrase no longer works\.$/
	);
	await expect(liveRegion(page)).toHaveText(
		'Taken: the last download was used. The file is destroyed.'
	);
	await expect(page).toHaveTitle('Taken — Raven Zero');
	// Nothing left to offer: no passphrase, no copy buttons, no QR code, no link, no Destroy.
	await expect(page.getByTestId('passphrase')).toHaveCount(0);
	await expect(page.getByRole('button', { name: /^Copy/ })).toHaveCount(0);
	await expect(page.getByRole('img', { name: /QR code/ })).toHaveCount(0);
	await expect(page.getByTestId('share-link')).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Destroy now' })).toHaveCount(0);
	await expectAccessible(page, 'send page, taken');

	// It stops asking once nothing can be taken.
	const asked = lookups.length;
	await page.waitForTimeout(12_000);
	expect(lookups.length).toBe(asked);

	// Every ask named the drop by its access key alone, and found it: none was a failed lookup.
	const key = await accessKeyOf(passphrase);
	expect(asked).toBeGreaterThanOrEqual(2);
	for (const lookup of lookups) {
		expect(lookup).toMatchObject({ path: '/status', key, body: '', status: 200 });
	}
	expect(problems).toEqual(NO_PROBLEMS);
});

test('Destroy now asks first, then burns the drop, and the card says so', async ({
	page,
	request
}) => {
	test.setTimeout(90_000);
	const problems = await watchProblems(page);
	const lookups = recordLookups(page);
	const passphrase = await send(page, randomFile('regret.bin', 3000), { uses: 3 });

	// Asked first; Escape keeps it.
	const destroy = page.getByRole('button', { name: 'Destroy now' });
	await destroy.click();
	const dialog = page.getByRole('dialog', { name: 'Destroy this drop now?' });
	await expect(dialog).toBeVisible();
	await expect(dialog.getByRole('button', { name: 'Keep it' })).toBeFocused();
	await expectAccessible(page, 'send page, destroy dialog');
	await page.keyboard.press('Escape');
	await expect(dialog).toBeHidden();
	await expect(destroy).toBeFocused();
	expect(
		((await (await request.get(`/status/${passphrase}`)).json()) as { status: string }).status
	).toBe('active');

	// Confirmed from the keyboard: the drop is burned on the server at once.
	await page.keyboard.press('Enter');
	await expect(dialog).toBeVisible();
	await dialog.getByRole('button', { name: 'Yes, destroy it' }).click();
	const heading = page.getByRole('heading', { name: 'You destroyed your file' });
	await expect(heading).toBeVisible();
	// The Destroy button went with the focus it held: the heading has it now.
	await expect(heading).toBeFocused();
	await expect(page.getByTestId('drop-ending')).toHaveText(
		/^You destroyed it at \d\d:\d\d, with 0 of 3 downloads used\. The file is destroyed on the server/
	);
	await expect(page).toHaveTitle('Destroyed — Raven Zero');
	await expect(page.getByTestId('passphrase')).toHaveCount(0);
	await expect(liveRegion(page)).toHaveText('Destroyed: the passphrase no longer works.');

	const status = (await (await request.get(`/status/${passphrase}`)).json()) as { status: string };
	expect(status.status).toBe('burned');
	expect((await request.get(`/download/${passphrase}`)).status()).toBe(410);

	// By access key, with nothing in the body.
	const key = await accessKeyOf(passphrase);
	const destroys = () => lookups.filter(({ path }) => path === '/destroy');
	await expect.poll(() => destroys().length).toBe(1);
	expect(destroys()).toEqual([expect.objectContaining({ key, body: '', status: 200 })]);
	expect(problems).toEqual(NO_PROBLEMS);
});

test('the card says when the drop expired, and asks nothing after', async ({ page }) => {
	// The shortest expiry is a minute, and it is waited for in full.
	test.setTimeout(150_000);
	const lookups = recordLookups(page);
	await send(page, randomFile('short-lived.bin', 1000), { expiry: 1 });
	await expect(page.getByRole('heading', { name: 'Your file expired' })).toBeVisible({
		timeout: 90_000
	});
	await expect(page.getByTestId('drop-ending')).toHaveText(
		/^Its time ran out at \d\d:\d\d, with 0 of 1 download used\. The file is destroyed/
	);
	await expect(page).toHaveTitle('Expired — Raven Zero');
	await expect(page.getByRole('button', { name: /^Copy/ })).toHaveCount(0);
	await expect(page.getByRole('img', { name: /QR code/ })).toHaveCount(0);
	const asked = lookups.length;
	await page.waitForTimeout(8000);
	expect(lookups.length).toBe(asked);
	expect(lookups.every(({ status }) => status === 200)).toBe(true);
});

test('the card asks only while its tab is visible, and waits as long as a 429 asks', async ({
	page
}) => {
	test.setTimeout(120_000);
	const lookups = recordLookups(page);
	// The first ask is refused as the lookup limit refuses; the rest reach the server.
	let refused = 0;
	await page.route('**/status', (route) => {
		if (route.request().method() !== 'POST' || refused > 0) return route.fallback();
		refused++;
		return route.fulfill({
			status: 429,
			headers: { 'Retry-After': '15', 'Content-Type': 'application/json' },
			body: JSON.stringify({ error_code: 'RATE_LIMITED', detail: 'Too many lookups.' })
		});
	});
	await send(page, randomFile('patient.bin', 1000));
	await expect.poll(() => lookups.length, { timeout: 20_000 }).toBe(1);
	expect(lookups[0]!.status).toBe(429);
	await expect.poll(() => lookups.length, { timeout: 30_000 }).toBe(2);
	expect(lookups[1]!.at - lookups[0]!.at).toBeGreaterThanOrEqual(14_000);
	expect(lookups[1]!.status).toBe(200);

	// Hidden (another tab in front): no asks at all. Shown again: one at once.
	const setVisibility = (state: 'hidden' | 'visible') =>
		page.evaluate((value) => {
			Object.defineProperty(document, 'visibilityState', { value, configurable: true });
			Object.defineProperty(document, 'hidden', { value: value === 'hidden', configurable: true });
			document.dispatchEvent(new Event('visibilitychange'));
		}, state);
	await setVisibility('hidden');
	await page.waitForTimeout(1000); // an ask already on its way may still land
	const before = lookups.length;
	await page.waitForTimeout(12_000);
	expect(lookups.length).toBe(before);
	await setVisibility('visible');
	await expect.poll(() => lookups.length, { timeout: 5000 }).toBe(before + 1);
});

test('leaving mid-upload warns first, and leaving anyway aborts the upload', async ({
	page,
	request
}) => {
	test.setTimeout(120_000);
	await open(page, '/');
	await throttleUploads(page, 20 * 1024);
	await dropFile(page, 'label:has(input[type=file])', randomFile('abandoned.bin', 900 * 1024));
	const upload = page.waitForRequest(
		(req) => req.method() === 'POST' && new URL(req.url()).pathname === '/'
	);
	const failed = page.waitForEvent(
		'requestfailed',
		(req) => req.method() === 'POST' && new URL(req.url()).pathname === '/'
	);
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('progressbar')).toBeVisible();
	const key = (await upload).headers()['x-access-key'];
	expect(key).toMatch(/^[\w-]{43}$/);

	// A link in the page: asked, and "stay" keeps the upload going.
	const dialogs: string[] = [];
	page.once('dialog', (dialog) => {
		dialogs.push(`${dialog.type()}: ${dialog.message()}`);
		void dialog.dismiss();
	});
	await page.getByRole('link', { name: 'Retrieve', exact: true }).click();
	await expect
		.poll(() => dialogs)
		.toEqual(['confirm: Your file is still uploading. Leave and cancel the upload?']);
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByRole('progressbar')).toBeVisible();

	// Closing the tab (the browser's own "Leave site?"): stay again.
	page.once('dialog', (dialog) => {
		dialogs.push(dialog.type());
		void dialog.dismiss();
	});
	await page.close({ runBeforeUnload: true });
	await expect.poll(() => dialogs.length).toBe(2);
	expect(dialogs[1]).toBe('beforeunload');
	await expect(page.getByRole('progressbar')).toBeVisible();

	// Leaving anyway: the upload is aborted, and nothing is stored under its key.
	page.once('dialog', (dialog) => void dialog.accept());
	await page.getByRole('link', { name: 'Retrieve', exact: true }).click();
	await expect(page).toHaveURL(/\/r$/);
	const aborted = await failed;
	expect(aborted.failure()?.errorText).toBe('net::ERR_ABORTED');
	await page.waitForTimeout(2000);
	const status = await request.post('/status', { headers: { 'X-Access-Key': key! } });
	expect(status.status()).toBe(404);
});

test('focus stays where the person is: Upload, Cancel, and Send another file', async ({ page }) => {
	test.setTimeout(120_000);
	await open(page, '/');
	await throttleUploads(page, 20 * 1024);
	await dropFile(page, 'label:has(input[type=file])', randomFile('keyboard.bin', 900 * 1024));
	const upload = page.getByRole('button', { name: 'Upload and get a passphrase' });
	await upload.focus();
	await page.keyboard.press('Enter');
	// Upload made way for the progress: Cancel, in its place, has the focus.
	const cancel = page.getByRole('button', { name: 'Cancel upload' });
	await expect(cancel).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(page.getByText('Upload cancelled. Nothing was kept.')).toBeVisible();
	// Cancel went with the focus: Upload, back in its place, has it.
	await expect(upload).toBeFocused();

	await throttleUploads(page, -1);
	await dropFile(page, 'label:has(input[type=file])', randomFile('again.bin', 2000));
	await upload.focus();
	await page.keyboard.press('Enter');
	await expect(page.getByRole('heading', { name: READY })).toBeFocused({ timeout: 20_000 });
	const another = page.getByRole('button', { name: 'Send another file' });
	await another.focus();
	await page.keyboard.press('Enter');
	// The new form's first field, not the top of the page.
	await expect(page.locator('input[name=file]')).toBeFocused();
});

test('settings cannot change during an upload, and come back after it', async ({ page }) => {
	test.setTimeout(90_000);
	await open(page, '/');
	await throttleUploads(page, 20 * 1024);
	await dropFile(page, 'label:has(input[type=file])', randomFile('steady.bin', 900 * 1024));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByRole('progressbar')).toBeVisible();
	const settings = [
		page.getByLabel('Destroy after'),
		page.getByRole('radio', { name: '3' }),
		page.getByRole('tab', { name: 'Text' }),
		page.locator('input[name=file]'),
		page.locator('#folder-input')
	];
	for (const control of settings) await expect(control).toBeDisabled();
	await page.getByRole('button', { name: 'Cancel upload' }).click();
	for (const control of settings) await expect(control).toBeEnabled();
});

test('a file too large disables Upload and is explained once', async ({ page }) => {
	const posts: string[] = [];
	page.on('request', (req) => {
		if (req.method() === 'POST') posts.push(req.url());
	});
	await open(page, '/');
	await dropFile(
		page,
		'label:has(input[type=file])',
		randomFile('huge.bin', E2E_MAX_FILE_SIZE + 1)
	);
	const upload = page.getByRole('button', { name: 'Upload and get a passphrase' });
	await expect(upload).toBeDisabled();
	await expect(page.getByRole('alert')).toHaveCount(1);
	await expect(page.getByRole('alert')).toContainText(
		'“huge.bin” is 1 MiB; this server accepts files up to 1 MiB. Nothing was uploaded.'
	);
	await expect(page.getByText(/accepts/)).toHaveCount(1);
	await expect(upload).toHaveAccessibleDescription(/Nothing was uploaded/);

	// Another file that fits: Upload again, and the refusal gone.
	await dropFile(page, 'label:has(input[type=file])', randomFile('fits.bin', 1000));
	await expect(upload).toBeEnabled();
	await expect(page.getByRole('alert')).toHaveCount(0);
	expect(posts).toEqual([]);
});

test('the upload shows speed and time left, and the tab title follows it', async ({ page }) => {
	test.setTimeout(90_000);
	await open(page, '/');
	await expect(page).toHaveTitle('Raven Zero · send a file that destroys itself');
	await throttleUploads(page, 30 * 1024);
	await dropFile(page, 'label:has(input[type=file])', randomFile('measured.bin', 900 * 1024));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	// Worded as the download's: "312 KiB of 900 KiB · 30 KiB/s · about 20 seconds left".
	await expect(page.getByTestId('upload-numbers')).toHaveText(
		/^[\d.]+ (bytes|KiB) of 900 KiB · [\d.]+ KiB\/s · about \d+ (seconds?|minutes?) left$/,
		{ timeout: 20_000 }
	);
	await expect(page).toHaveTitle(/^Uploading \d+ % — Raven Zero$/);
	await page.getByRole('button', { name: 'Cancel upload' }).click();
	await expect(page).toHaveTitle('Raven Zero · send a file that destroys itself');
});

test('Copied ✓ keeps the button width, so the buttons beside it stay put', async ({
	page,
	context
}) => {
	await context.grantPermissions(['clipboard-read', 'clipboard-write']);
	const passphrase = await send(page, randomFile('copied.bin', 1000));
	// Its name changes with its face: found by either.
	const copy = page.getByRole('button', { name: /^(Copy passphrase|Copied ✓)$/ });
	const link = page.getByRole('button', { name: 'Copy link' });
	const before = { copy: (await copy.boundingBox())!, link: (await link.boundingBox())! };
	await copy.click();
	await expect(copy).toHaveText(/Copied ✓/);
	expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(passphrase);
	const after = { copy: (await copy.boundingBox())!, link: (await link.boundingBox())! };
	expect(after.copy.width).toBeCloseTo(before.copy.width, 1);
	expect(after.link.x).toBeCloseTo(before.link.x, 1);
});

test('no line of the passphrase starts with a hyphen, at any width', async ({ page }) => {
	const passphrase = await send(page, randomFile('hyphens.bin', 1000));
	// Every width from a phone's down to one word a line: each hyphen sits on its word's line.
	const stray = await page.getByTestId('passphrase').evaluate((words: HTMLElement) => {
		const found: number[] = [];
		for (let width = 420; width >= 120; width -= 3) {
			words.style.width = `${width}px`;
			for (const sep of words.querySelectorAll<HTMLElement>('.sep')) {
				const word = sep.previousElementSibling as HTMLElement;
				if (Math.abs(sep.getBoundingClientRect().top - word.getBoundingClientRect().top) > 8) {
					found.push(width);
				}
			}
		}
		words.style.width = '';
		return found;
	});
	expect(stray).toEqual([]);
	await expect(page.getByTestId('passphrase')).toHaveText(passphrase);
});

test('the link can go to the share sheet where the browser has one', async ({ page }) => {
	// Without navigator.share (desktop Chromium here): no Share button.
	await send(page, randomFile('unshared.bin', 500));
	await expect(page.getByRole('button', { name: 'Copy link' })).toBeVisible();
	expect(await page.evaluate(() => typeof navigator.share)).toBe('undefined');
	await expect(page.getByRole('button', { name: /^Share/ })).toHaveCount(0);

	// With one (as on phones): the share sheet gets the link with the passphrase in its fragment.
	await page.addInitScript(() => {
		Object.defineProperty(navigator, 'share', {
			configurable: true,
			value: (data: ShareData) => {
				(window as unknown as { shared: ShareData }).shared = data;
				return Promise.resolve();
			}
		});
	});
	const passphrase = await send(page, randomFile('shared.bin', 500));
	await page.getByRole('button', { name: 'Share link…' }).click();
	const shared = await page.evaluate(() => (window as unknown as { shared: ShareData }).shared);
	expect(shared.url).toMatch(new RegExp(`/r#${passphrase}$`));
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('the result shows no copy buttons and the clock time it is destroyed at', async ({
		page
	}) => {
		await page.goto('/');
		await page.getByLabel(/Drop a file here/).setInputFiles(randomFile('plain.bin', 2000));
		await page.getByLabel('Destroy after').selectOption('15');
		const sentAt = Date.now();
		await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
		await passphraseOn(page);
		await expect(page.getByRole('button', { name: /^Copy/ })).toHaveCount(0);
		await expect(page.getByRole('timer')).toHaveCount(0);
		await expect(page.getByRole('button', { name: 'Destroy now' })).toHaveCount(0);
		// The server cannot know the reader's time zone: the time is in UTC, and right.
		const shown = await page.getByTestId('destroyed-at').textContent();
		expect(shown).toMatch(/^\d\d:\d\d UTC$/);
		const expected = [0, 1].map((late) =>
			new Date(sentAt + (15 + late) * 60_000).toISOString().slice(11, 16)
		);
		expect(expected.map((time) => `${time} UTC`)).toContain(shown);
		await expect(page).toHaveTitle('Ready to share — Raven Zero');
	});
});
