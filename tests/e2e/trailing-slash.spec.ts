import { expect, test, type Page } from '@playwright/test';
import { NO_PROBLEMS, randomFile, uploadThroughApi, watchProblems } from './support';

/*
 * The pages reached with a trailing slash (/r/, /docs/) render in place rather than redirect
 * (trailingSlash 'ignore'), so their relative asset paths, links and form actions are resolved
 * against the slashed URL: a browser shows whether they still load, hydrate and post.
 */

async function openSlashed(page: Page, path: string) {
	const response = await page.goto(path);
	expect(response?.status()).toBe(200);
	// No redirect: the page answered at the slashed address itself.
	expect(response?.request().redirectedFrom()).toBeNull();
	await expect(page.locator('body.js')).toBeAttached();
}

test('/r/ hydrates, checks a drop and fills in a share link', async ({ page, request }) => {
	const problems = await watchProblems(page);
	const passphrase = await uploadThroughApi(request, randomFile('slashed.bin', 100));
	await openSlashed(page, `/r/#${passphrase}`);
	await expect(page.getByLabel('Passphrase')).toHaveValue(passphrase);
	await expect(page).toHaveURL(/\/r$/);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toHaveText('slashed.bin');
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Send' }).click();
	await expect(page).toHaveURL(/:\d+\/$/);
	expect(problems).toEqual(NO_PROBLEMS);
});

test('/docs/ loads its styles and scripts and links to /openapi.json', async ({ page }) => {
	const problems = await watchProblems(page);
	await openSlashed(page, '/docs/');
	const link = page.getByRole('link', { name: '/openapi.json', exact: true });
	// The address the browser resolved the link to, from /docs/.
	const target = await link.evaluate((anchor: HTMLAnchorElement) => anchor.href);
	expect(new URL(target).pathname).toBe('/openapi.json');
	const document = await page.request.get(target);
	expect(document.status()).toBe(200);
	expect(problems).toEqual(NO_PROBLEMS);
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('the check form on /r/ posts to its action and shows the drop', async ({
		page,
		request
	}) => {
		const passphrase = await uploadThroughApi(request, randomFile('no-script-slashed.bin', 100));
		const response = await page.goto('/r/');
		expect(response?.status()).toBe(200);
		await page.getByLabel('Passphrase').fill(passphrase);
		await page.getByRole('button', { name: 'Check what is waiting' }).click();
		await expect(page).toHaveURL(/\/r\/\?\/check$/);
		await expect(page.getByTestId('drop-filename')).toHaveText('no-script-slashed.bin');
	});
});
