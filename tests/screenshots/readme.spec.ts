import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import {
	DESKTOP,
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
