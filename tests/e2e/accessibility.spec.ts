import { expect, test, type Page } from '@playwright/test';
import {
	DESKTOP,
	dropFiles,
	expectAccessible,
	open,
	randomFile,
	showDetails,
	showResult,
	uploadThroughApi,
	watchProblems,
	withoutExpectedHttpErrors
} from './support';

/*
 * axe-core on every state of /, /r and /docs, in both colour schemes at 320, 390 and 1280 px
 * (nothing may scroll sideways at any of them: WCAG 1.4.10 reflow); the states a browser
 * without JavaScript sees; and the keyboard path. (The README's screenshots
 * are taken by `npm run screenshots`, tests/screenshots/, not by the test run.)
 */

/** The widths of the matrix: the WCAG 1.4.10 reflow width, a common phone, a laptop. */
const VIEWPORTS = {
	'320 px': { width: 320, height: 640 },
	'390 px': { width: 390, height: 844 },
	'1280 px': DESKTOP
} as const;

/** No serious or critical axe violation, and nothing wider than the window (1.4.10 reflow). */
async function expectAccessibleAndFitting(page: Page, state: string): Promise<void> {
	await expectAccessible(page, state);
	const overflow = await page.evaluate(
		() => document.documentElement.scrollWidth - document.documentElement.clientWidth
	);
	expect(overflow, `horizontal overflow (${state})`).toBeLessThanOrEqual(0);
}

for (const colorScheme of ['light', 'dark'] as const) {
	for (const [size, viewport] of Object.entries(VIEWPORTS)) {
		test(`/, /r and /docs pass axe and fit the window in the ${colorScheme} scheme at ${size}`, async ({
			page,
			request
		}) => {
			// Two uploads, two key derivations and a dozen axe scans on two loaded cores.
			test.setTimeout(180_000);
			await page.emulateMedia({ colorScheme });
			await page.setViewportSize(viewport);
			const problems = await watchProblems(page);
			const at = `${colorScheme}, ${size}`;

			await open(page, '/');
			await expectAccessibleAndFitting(page, `send page, ${at}`);
			await dropFiles(page, 'label:has(input[type=file])', [
				randomFile('a rather long file name for a narrow phone screen.pdf', 300),
				randomFile('notes.txt', 200)
			]);
			await expect(page.getByRole('list', { name: 'Files to send' })).toBeVisible();
			await expectAccessibleAndFitting(page, `send page, several files, ${at}`);
			await page.getByRole('tab', { name: 'Text' }).click();
			await expectAccessibleAndFitting(page, `send page, text tab, ${at}`);
			await showResult(page);
			await expectAccessibleAndFitting(page, `send page, result, ${at}`);

			await open(page, '/r');
			await expectAccessibleAndFitting(page, `retrieval page, ${at}`);
			await page.getByLabel('Passphrase').fill('abacus abdomen abdominall abid');
			await expect(page.getByRole('group', { name: 'Suggestions for abdominall' })).toBeVisible();
			await expectAccessibleAndFitting(page, `retrieval page, typing, ${at}`);

			const passphrase = await uploadThroughApi(request, randomFile('notes.txt', 300), {
				uses: 1
			});
			await showDetails(page, passphrase);
			await expectAccessibleAndFitting(page, `retrieval page, details, ${at}`);
			const saved = page.waitForEvent('download');
			await page.getByRole('button', { name: /^Download/ }).click();
			await saved;
			await expect(page.getByTestId('download-sha256')).toBeVisible();
			await expectAccessibleAndFitting(page, `retrieval page, downloaded, ${at}`);

			const text = await uploadThroughApi(
				request,
				{ name: 'message.txt', mimeType: 'text/plain', buffer: Buffer.from('Meet at seven.\n') },
				{ uses: 1, kind: 'text' }
			);
			await showDetails(page, text);
			await page.getByRole('button', { name: /^Download/ }).click();
			await expect(page.getByRole('textbox', { name: 'Text received' })).toBeVisible();
			await expectAccessibleAndFitting(page, `retrieval page, text shown, ${at}`);

			// Every page links to the API reference.
			await page.getByRole('link', { name: 'API reference' }).click();
			await expect(page).toHaveURL(/\/docs$/);
			await expect(page.getByRole('heading', { name: 'API reference', level: 1 })).toBeVisible();
			await expectAccessibleAndFitting(page, `API reference, ${at}`);
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
