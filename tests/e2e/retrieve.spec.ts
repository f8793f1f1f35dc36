import { readFile } from 'node:fs/promises';
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
	DESKTOP,
	expectAccessible,
	NO_PROBLEMS,
	open,
	PHONE,
	randomFile,
	sha256,
	uploadThroughApi,
	watchProblems
} from './support';

/*
 * The retrieval page, second round (issue #13): the download's progress and time left, the
 * focus while it runs, the receipt after one's own last download, the share link that checks
 * by itself and survives a reload, and the form without JavaScript that never lets a stale
 * count skip the last-use warning. Big downloads to disk: big-download.spec.ts; the wording
 * of unknown passphrases, tries left and limits: lookup-limits.spec.ts.
 */

/** Slow the page's downloads, so that a running download can be seen (and looked at). */
async function throttleDownloads(page: Page, bytesPerSecond: number) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: bytesPerSecond,
		uploadThroughput: -1
	});
}

async function checkOnPage(page: Page, passphrase: string) {
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByLabel('Passphrase').press('Enter');
	await expect(page.getByTestId('drop-filename')).toBeVisible();
}

/** Tab forward (a real keyboard) until the element with `name` has the focus. */
async function tabTo(page: Page, name: RegExp) {
	for (let presses = 0; presses < 15; presses++) {
		const focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
		if (name.test(focused)) return;
		await page.keyboard.press('Tab');
	}
	throw new Error(`${name} never got the focus`);
}

async function recipient(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
	const context = await browser.newContext({ acceptDownloads: true, ...options });
	return { context, page: await context.newPage() };
}

test('a download shows its progress as % of the size, with the speed and the time left', async ({
	page,
	request
}) => {
	test.setTimeout(120_000);
	const problems = await watchProblems(page);
	const file = randomFile('slow-download.bin', 900 * 1024);
	const passphrase = await uploadThroughApi(request, file, { uses: 1 });
	await checkOnPage(page, passphrase);
	// About 18 s at 50 KiB/s: long enough to see it move and scan it, whatever the load.
	await throttleDownloads(page, 50 * 1024);

	const saved = page.waitForEvent('download', { timeout: 90_000 });
	await page.getByRole('button', { name: /^Download/ }).click();
	const bar = page.getByRole('progressbar', { name: /Downloading… \d+ %/ });
	await expect(bar).toBeVisible();
	await expect(bar).toHaveAttribute('max', String(900 * 1024));
	// The numbers once the speed is known: "312 KiB of 900 KiB · 100 KiB/s · about 6 seconds left".
	await expect(page.getByTestId('download-numbers')).toHaveText(
		/^[\d.]+ KiB of 900 KiB · [\d.]+ KiB\/s · about \d+ seconds? left$/,
		{ timeout: 20_000 }
	);
	const received = Number((await bar.getAttribute('value')) ?? 0);
	expect(received).toBeGreaterThan(0);
	expect(received).toBeLessThan(900 * 1024);
	await expectAccessible(page, 'retrieval page, downloading');

	const bytes = await readFile((await (await saved).path())!);
	expect(bytes.equals(file.buffer)).toBe(true);
	await expect(page.getByRole('progressbar')).toHaveCount(0);
	await expect(page.getByTestId('download-check')).toContainText('✓ Checked');
	expect(problems).toEqual(NO_PROBLEMS);
});

test('the focus stays on Download while it runs, and goes to the receipt after the last', async ({
	page,
	request
}) => {
	test.setTimeout(120_000);
	const file = randomFile('keyboard.bin', 500 * 1024);
	const passphrase = await uploadThroughApi(request, file, { uses: 2 });
	await checkOnPage(page, passphrase);
	await throttleDownloads(page, 100 * 1024);

	// Keyboard only: Tab to the button, Enter.
	await tabTo(page, /^Download \(2 uses left\)$/);
	let saved = page.waitForEvent('download', { timeout: 90_000 });
	await page.keyboard.press('Enter');
	const button = page.getByRole('button', { name: /^Download/ });
	await expect(button).toHaveText(/^Downloading…/);
	await expect(button).toBeFocused();
	await expect(page.getByRole('progressbar')).toBeVisible();
	// A second Enter while it runs starts nothing.
	await page.keyboard.press('Enter');
	expect((await readFile((await (await saved).path())!)).equals(file.buffer)).toBe(true);
	await expect(page.getByText('1 download left.')).toBeVisible();
	await expect(button).toBeFocused();

	// The last one: the card goes, and the receipt, not the top of the page, has the focus.
	saved = page.waitForEvent('download', { timeout: 90_000 });
	await page.keyboard.press('Enter');
	await expect(button).toBeFocused();
	await saved;
	await expect(page.getByText('That was the last download allowed')).toBeVisible();
	const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
	expect(focused).toContain('That was the last download allowed');
});

for (const [width, viewport] of [
	['desktop', DESKTOP],
	['phone', PHONE]
] as const) {
	test(`after one's own last download the page says what happened, not that it leaked (${width})`, async ({
		browser,
		request
	}) => {
		const file = randomFile('mine.bin', 4096);
		const passphrase = await uploadThroughApi(request, file, { uses: 1 });
		const context = await browser.newContext({ viewport, acceptDownloads: true });
		const page = await context.newPage();
		const problems = await watchProblems(page);
		await checkOnPage(page, passphrase);
		const saved = page.waitForEvent('download');
		await page
			.getByRole('button', { name: 'Download (last use: downloading destroys it)' })
			.click();
		expect((await readFile((await (await saved).path())!)).equals(file.buffer)).toBe(true);

		await expect(page.getByText('That was the last download allowed')).toBeVisible();
		await expect(page.getByTestId('download-sha256')).toHaveText(sha256(file.buffer));
		await expect(page.getByText('Already taken')).toHaveCount(0);
		await expect(page.getByText(/leaked|If that was not you/)).toHaveCount(0);
		await expect(page.getByRole('alert')).toHaveCount(0);
		expect(problems).toEqual(NO_PROBLEMS);
		await context.close();
	});
}

test('the share link checks by itself, and a reload keeps the passphrase until it is taken', async ({
	browser,
	request
}) => {
	test.setTimeout(120_000);
	const file = randomFile('linked.bin', 2048);
	const passphrase = await uploadThroughApi(request, file, { uses: 1 });
	const { context, page } = await recipient(browser);
	const sent: string[] = [];
	page.on('request', (req) => sent.push(`${req.url()} ${req.postData() ?? ''}`));

	// No press of Check: the page checks what it was handed.
	await open(page, `/r#${passphrase}`);
	await expect(page.getByTestId('drop-filename')).toHaveText('linked.bin');
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);
	await expect(page).toHaveURL(/\/r$/);

	// A reload (the fragment is gone from the address by now) finds it again, checked.
	await page.reload();
	await expect(page.locator('body.js')).toBeAttached();
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);
	await expect(page.getByTestId('drop-filename')).toHaveText('linked.bin');

	// Taken: it is forgotten, and the next reload opens an empty field.
	const saved = page.waitForEvent('download');
	await page.getByRole('button', { name: /^Download/ }).click();
	await saved;
	await expect(page.getByText('That was the last download allowed')).toBeVisible();
	await page.reload();
	await expect(page.locator('body.js')).toBeAttached();
	await expect(page.getByLabel('Passphrase')).toHaveValue('');
	await expect(page.getByTestId('drop-filename')).toHaveCount(0);

	// Never sent: the page names the drop by its access key.
	const letters = passphrase.replace(/-/g, '');
	for (const line of sent) expect(line.replace(/[^a-z]/gi, '')).not.toContain(letters);
	await context.close();
});

test('clearing the field forgets the passphrase for the next reload', async ({ page, request }) => {
	const passphrase = await uploadThroughApi(request, randomFile('cleared.bin', 100));
	await open(page, `/r#${passphrase}`);
	await expect(page.getByTestId('drop-filename')).toHaveText('cleared.bin');
	await page.getByLabel('Passphrase').fill('');
	await page.reload();
	await expect(page.locator('body.js')).toBeAttached();
	await expect(page.getByLabel('Passphrase')).toHaveValue('');
	await expect(page.getByTestId('drop-filename')).toHaveCount(0);
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('a stale count never skips the last-use warning (2 of 2 downloads)', async ({
		page,
		request
	}) => {
		const file = randomFile('twice-no-script.bin', 20 * 1024);
		const passphrase = await uploadThroughApi(request, file, { uses: 2 });
		let downloads = 0;
		page.on('download', () => downloads++);
		await page.goto('/r');
		await page.getByLabel('Passphrase').fill(passphrase);
		await page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(page.getByTestId('uses-left')).toHaveText('2');

		const first = page.waitForEvent('download');
		await page.getByRole('button', { name: 'Download (2 uses left)' }).click();
		expect((await readFile((await (await first).path())!)).equals(file.buffer)).toBe(true);

		// The page still says 2, but the next press would take the last download: the page
		// checks again instead, and now warns.
		await page.getByRole('button', { name: 'Download (2 uses left)' }).click();
		await expect(page.getByTestId('uses-left')).toHaveText('1');
		await expect(page.getByText('Checked again: this is now the last download')).toBeVisible();
		await expect(page.getByText('This is the last download allowed')).toBeVisible();
		expect(downloads).toBe(1);
		// The passphrase stayed out of the address bar.
		expect(page.url()).not.toContain(passphrase.split('-')[0]!);
		// And the page says it cannot follow downloads by itself. (A regular expression:
		// Playwright's plain-string text match skips <noscript> content.)
		await expect(page.getByText(/Without JavaScript this page does not change/)).toBeVisible();

		const last = page.waitForEvent('download');
		await page
			.getByRole('button', { name: 'Download (last use: downloading destroys it)' })
			.click();
		expect((await readFile((await (await last).path())!)).equals(file.buffer)).toBe(true);
		expect(downloads).toBe(2);
	});

	test('a share link opened without JavaScript says to paste the words after #', async ({
		page,
		request
	}) => {
		const passphrase = await uploadThroughApi(request, randomFile('hint.bin', 100));
		await page.goto(`/r#${passphrase}`);
		await expect(page.getByLabel('Passphrase')).toHaveValue('');
		await expect(
			page.getByText(/The words after “#” in it are not sent to the server/)
		).toBeVisible();
		await expect(
			page.getByText(/copy them from the address bar and paste them here/)
		).toBeVisible();
	});
});
