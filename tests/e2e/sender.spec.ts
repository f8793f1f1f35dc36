import { expect, test, type Page } from '@playwright/test';
import { dropFile, open, randomFile, type TestFile } from './support';

/*
 * The send page after issue #13, in Chromium against the built app and a real Redis: the
 * result card's details (copy buttons that keep their width, a passphrase that never starts
 * a line with a hyphen).
 */

const READY = 'Your file is ready to pick up';

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
