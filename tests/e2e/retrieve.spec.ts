import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { randomFile, uploadThroughApi } from './support';

/*
 * The retrieval page, second round (issue #13). Without JavaScript: a stale count never lets
 * the form skip the last-use warning, and a share link says to paste its words. The wording
 * of unknown passphrases, tries left and limits: lookup-limits.spec.ts.
 */

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
