import { expect, test, type Page } from '@playwright/test';
import { E2E_MAX_FILE_SIZE } from './settings';
import { dropFile, open, randomFile, type TestFile } from './support';

/*
 * The send page after issue #13, in Chromium against the built app and a real Redis: leaving
 * mid-upload is warned about and aborts, focus stays where the person is, settings hold still
 * during an upload, a file too large is said once, and the smaller things (numbers, title,
 * copy buttons, hyphens).
 */

const READY = 'Your file is ready to pick up';

/** Slow the page's uploads down so the progress bar has time to be seen (and left). */
async function throttleUploads(page: Page, bytesPerSecond: number) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: -1,
		uploadThroughput: bytesPerSecond
	});
}

async function passphraseOn(page: Page): Promise<string> {
	const text = await page.getByTestId('passphrase').textContent();
	expect(text).toMatch(/^[a-z]+(-[a-z]+){3}$/);
	return text!;
}

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
	await expect(page.locator('input[type=file]')).toBeFocused();
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
		page.locator('input[type=file]')
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
	await expect(
		page.getByText(/^[\d.]+ (bytes|KiB) of 900 KiB · [\d.]+ KiB\/s · \d+:\d\d left$/)
	).toBeVisible({
		timeout: 20_000
	});
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
