import { expect, test } from '@playwright/test';
import {
	DESKTOP,
	expectAccessible,
	open,
	PHONE,
	randomFile,
	showDetails,
	showResult,
	uploadThroughApi,
	watchProblems,
	withoutExpectedHttpErrors
} from './support';

/*
 * axe-core on every state of both pages, in both colour schemes and at phone width; the
 * states a browser without JavaScript sees; and the keyboard path. (The README's screenshots
 * are taken by `npm run screenshots`, tests/screenshots/, not by the test run.)
 */

for (const colorScheme of ['light', 'dark'] as const) {
	for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
		test(`both pages pass axe in the ${colorScheme} scheme at ${size} width`, async ({
			page,
			request
		}) => {
			await page.emulateMedia({ colorScheme });
			await page.setViewportSize(viewport);
			const problems = await watchProblems(page);

			await open(page, '/');
			await expectAccessible(page, `send page, ${colorScheme}, ${size}`);
			await page.getByRole('tab', { name: 'Text' }).click();
			await expectAccessible(page, `send page, text tab, ${colorScheme}, ${size}`);
			await showResult(page);
			await expectAccessible(page, `send page, result, ${colorScheme}, ${size}`);

			await open(page, '/r');
			await expectAccessible(page, `retrieval page, ${colorScheme}, ${size}`);
			await page.getByLabel('Passphrase').fill('abacus abdomen abdominall abid');
			await expect(page.getByRole('group', { name: 'Suggestions for abdominall' })).toBeVisible();
			await expectAccessible(page, `retrieval page, typing, ${colorScheme}, ${size}`);

			const passphrase = await uploadThroughApi(request, randomFile('notes.txt', 300), {
				uses: 1
			});
			await showDetails(page, passphrase);
			await expectAccessible(page, `retrieval page, details, ${colorScheme}, ${size}`);
			const saved = page.waitForEvent('download');
			await page.getByRole('button', { name: /^Download/ }).click();
			await saved;
			await expect(page.getByTestId('download-sha256')).toBeVisible();
			await expectAccessible(page, `retrieval page, downloaded, ${colorScheme}, ${size}`);

			// Nothing may overflow sideways at phone width.
			const overflow = await page.evaluate(
				() => document.documentElement.scrollWidth - document.documentElement.clientWidth
			);
			expect(overflow).toBeLessThanOrEqual(0);
			expect(withoutExpectedHttpErrors(problems, [])).toEqual({
				console: [],
				pageErrors: [],
				cspViolations: []
			});
		});
	}
}

test('the pages as a browser without JavaScript renders them pass axe', async ({
	page,
	request
}) => {
	// axe needs to run a script, which a javaScriptEnabled:false context refuses; so the
	// app's own scripts are blocked instead, which leaves exactly the server-rendered pages.
	await page.route('**/_app/immutable/**/*.js', (route) => route.abort());
	await page.goto('/');
	await page.getByLabel(/Drop a file here/).setInputFiles(randomFile('plain.bin', 500));
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByTestId('passphrase')).toBeVisible();
	await expectAccessible(page, 'send page without scripts, result');

	const passphrase = await uploadThroughApi(request, randomFile('plain.bin', 500), { uses: 3 });
	await page.goto('/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toBeVisible();
	await expectAccessible(page, 'retrieval page without scripts, details');

	await page.getByLabel('Passphrase').fill('abacus abdomen abdominall abide');
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByText('Did you mean abdominal?')).toBeVisible();
	await expectAccessible(page, 'retrieval page without scripts, wrong word');
});

test('the send page works from the keyboard alone', async ({ page }) => {
	await open(page, '/');
	// Skip link, brand, nav... Tab until the file input has focus, then Space opens the picker.
	// The file input of the drop zone (the folder picker is another file input).
	const input = page.locator('input[name=file]');
	for (let i = 0; i < 12 && !(await input.evaluate((el) => el === document.activeElement)); i++) {
		await page.keyboard.press('Tab');
	}
	await expect(input).toBeFocused();
	const chooser = page.waitForEvent('filechooser');
	await page.keyboard.press('Space');
	await (await chooser).setFiles(randomFile('keyboard.bin', 100));
	await expect(page.getByText('keyboard.bin')).toBeVisible();
	// The tabs answer the arrow keys.
	await page.getByRole('tab', { name: 'File' }).focus();
	await page.keyboard.press('ArrowRight');
	await expect(page.getByRole('tab', { name: 'Text' })).toBeFocused();
	await expect(page.getByLabel('Text to send')).toBeVisible();
});
