import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import {
	DESKTOP,
	dropFiles,
	open,
	PHONE,
	randomFile,
	showDetails,
	showResult,
	uploadThroughApi
} from '../e2e/support';

/*
 * The README's screenshots (docs/screenshots/), taken by `npm run screenshots` against the
 * built app: the "screenshots" project in playwright.config.ts, which `npm test` and a plain
 * `npx playwright test` do not run. They show random passphrases, so every run changes the
 * files; the test run must leave the working tree as it found it.
 */

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

test('screenshots of both pages at desktop and phone width', async ({ page, request }) => {
	mkdirSync(SCREENSHOTS, { recursive: true });
	const shot = (name: string) =>
		page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
	for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
		await page.setViewportSize(viewport);
		await open(page, '/');
		await shot(`send-${size}`);
		await showResult(page);
		await page.getByRole('button', { name: 'Copy passphrase' }).blur();
		await shot(`send-result-${size}`);
		const passphrase = await uploadThroughApi(
			request,
			randomFile('holiday-photos.zip', 734 * 1024, 'application/zip'),
			{ uses: 1 }
		);
		await showDetails(page, passphrase);
		await shot(`retrieve-${size}`);
	}
	await page.emulateMedia({ colorScheme: 'dark' });
	await page.setViewportSize(DESKTOP);
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill('orbit velvet gravyy amul');
	await expect(page.getByRole('group', { name: 'Suggestions for gravyy' })).toBeVisible();
	await shot('retrieve-typing-dark-desktop');
});

test('screenshots of the live sender card, several files and a text drop', async ({
	page,
	browser,
	request
}) => {
	test.setTimeout(120_000);
	const shot = (name: string) =>
		page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
	await page.setViewportSize(DESKTOP);

	// The sender's card follows the drop: taken once of twice (it asks every 5 s).
	await showResult(page);
	const passphrase = (await page.getByTestId('passphrase').textContent())!;
	expect((await request.get(`/download/${passphrase}`)).status()).toBe(200);
	await expect(page.getByText(/1 of 2/).first()).toBeVisible({ timeout: 20_000 });
	await page.getByRole('button', { name: 'Copy passphrase' }).blur();
	await shot('send-watched-desktop');

	// Several files, listed before they go as one zip.
	await open(page, '/');
	await dropFiles(page, 'label:has(input[type=file])', [
		randomFile('site-plan.pdf', 412 * 1024, 'application/pdf'),
		randomFile('photos/front.jpg', 233 * 1024, 'image/jpeg'),
		randomFile('photos/garden.jpg', 187 * 1024, 'image/jpeg')
	]);
	await shot('send-several-desktop');

	// A text drop, shown as text once its download has used it up.
	const text = 'The door code is 4417.\nThe spare key is under the blue pot, left of the steps.';
	const textPassphrase = await uploadThroughApi(
		request,
		{ name: 'message.txt', mimeType: 'text/plain', buffer: Buffer.from(text) },
		{ uses: 1, kind: 'text' }
	);
	const recipient = await browser.newPage({ viewport: DESKTOP });
	await open(recipient, '/r');
	await recipient.getByLabel('Passphrase').fill(textPassphrase);
	await recipient.getByRole('button', { name: 'Check what is waiting' }).click();
	await recipient.getByRole('button', { name: /^Download/ }).click();
	await expect(recipient.getByRole('textbox', { name: 'Text received' })).toHaveValue(text);
	await recipient.screenshot({
		path: path.join(SCREENSHOTS, 'retrieve-text-desktop.png'),
		fullPage: true
	});
	await recipient.close();
});
