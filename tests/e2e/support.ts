/**
 * What the page specs (and the screenshots, tests/screenshots/) share: opening a page once its
 * scripts run, the two viewports, watching for console errors and CSP violations, dropping a
 * file with a real DataTransfer, uploading through the API, and the axe-core scan.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
// Kit's own encoding of action data (a dependency of @sveltejs/kit), so a mocked answer is
// byte for byte what the server would send.
import { stringify } from 'devalue';

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 360, height: 780 };

/** Open a page and wait until its scripts run (the layout marks `body.js`). */
export async function open(page: Page, path: string): Promise<void> {
	await page.goto(path);
	await expect(page.locator('body.js')).toBeAttached();
}

export type Problems = { console: string[]; pageErrors: string[]; cspViolations: string[] };

/** What a page without problems shows: `expect(problems).toEqual(NO_PROBLEMS)`. */
export const NO_PROBLEMS: Problems = { console: [], pageErrors: [], cspViolations: [] };

/**
 * Everything that would show up red in DevTools: console errors (blocked resources are
 * reported there too), uncaught exceptions, and `securitypolicyviolation` events. The init
 * script runs through the DevTools protocol, so the page's own CSP does not block it.
 */
export async function watchProblems(page: Page): Promise<Problems> {
	const problems: Problems = { console: [], pageErrors: [], cspViolations: [] };
	page.on('console', (message) => {
		// The URL lets a test expect one exact line (a page's own 404) and no other.
		if (message.type() === 'error') {
			problems.console.push(`${message.text()} [${message.location().url}]`);
		}
	});
	page.on('pageerror', (error) => problems.pageErrors.push(`${error.name}: ${error.message}`));
	await page.exposeFunction('__reportCspViolation', (text: string) => {
		problems.cspViolations.push(text);
	});
	await page.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (event) => {
			const report = (window as unknown as { __reportCspViolation: (text: string) => void })
				.__reportCspViolation;
			void report(`${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'}`);
		});
	});
	return problems;
}

/** Console lines the browser prints for answers the test expects (a 404, a 410...). */
export function withoutExpectedHttpErrors(problems: Problems, statuses: number[]): Problems {
	const expected = statuses.map((status) => `status of ${status}`);
	return {
		...problems,
		console: problems.console.filter(
			(text) =>
				!(text.startsWith('Failed to load resource') && expected.some((s) => text.includes(s)))
		)
	};
}

export type TestFile = { name: string; mimeType: string; buffer: Buffer };

/** A file of random bytes (incompressible, so no layer can shrink it). */
export function randomFile(name: string, size: number, mimeType = 'application/octet-stream') {
	return { name, mimeType, buffer: randomBytes(size) } satisfies TestFile;
}

export function sha256(buffer: Buffer): string {
	return createHash('sha256').update(buffer).digest('hex');
}

/** Drop `file` on the page with a real `drop` event carrying a DataTransfer. */
export async function dropFile(page: Page, selector: string, file: TestFile): Promise<void> {
	await dropFiles(page, selector, [file]);
}

/** Drop several files at once, as one `drop` event. */
export async function dropFiles(page: Page, selector: string, files: TestFile[]): Promise<void> {
	const dataTransfer = await page.evaluateHandle(
		(list) => {
			const transfer = new DataTransfer();
			for (const { name, mimeType, base64 } of list) {
				const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
				transfer.items.add(new File([bytes], name, { type: mimeType }));
			}
			return transfer;
		},
		files.map((file) => ({
			name: file.name,
			mimeType: file.mimeType,
			base64: file.buffer.toString('base64')
		}))
	);
	const target = page.locator(selector);
	await target.dispatchEvent('dragenter', { dataTransfer });
	await target.dispatchEvent('dragover', { dataTransfer });
	await target.dispatchEvent('drop', { dataTransfer });
}

/** A drop made through the API, as curl would: its passphrase. */
export async function uploadThroughApi(
	request: APIRequestContext,
	file: TestFile,
	fields: { uses?: number; expiry?: number; kind?: 'file' | 'text' } = {}
): Promise<string> {
	const response = await request.post('/upload/', {
		multipart: {
			uses: String(fields.uses ?? 1),
			expiry: String(fields.expiry ?? 10),
			...(fields.kind ? { kind: fields.kind } : {}),
			file
		}
	});
	expect(response.status(), await response.text()).toBe(201);
	return ((await response.json()) as { key: string }).key;
}

/** The send page showing the result card of a small PDF dropped on it (uses: 2). */
export async function showResult(page: Page): Promise<void> {
	await open(page, '/');
	await dropFile(page, 'label:has(input[type=file])', {
		name: 'quarterly-report.pdf',
		mimeType: 'application/pdf',
		buffer: Buffer.from('%PDF-1.4\n% a small test document\n')
	});
	await page.getByRole('radio', { name: '2' }).check();
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	await expect(page.getByTestId('passphrase')).toBeVisible();
}

/** The retrieval page showing what waits under `passphrase`. */
export async function showDetails(page: Page, passphrase: string): Promise<void> {
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toBeVisible();
}

/**
 * A passphrase the way people paste it: `orbit-velvet-gravy-amulet` becomes
 * `  Orbit  velvet\nGRAVY-amulet. ` (odd spacing, capitals, a line break, a stray dot).
 */
export function messy(passphrase: string): string {
	const separators = ['  ', '\n', '-', ' . '];
	const words = passphrase
		.split('-')
		.map((word, index) =>
			index === 0 ? word[0]!.toUpperCase() + word.slice(1) : index === 2 ? word.toUpperCase() : word
		);
	return `  ${words.map((word, index) => (index === 0 ? word : separators[(index - 1) % 4] + word)).join('')}. `;
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
	const results = await new AxeBuilder({ page })
		.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
		.analyze();
	const serious = results.violations
		.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
		.map((violation) => ({
			id: violation.id,
			impact: violation.impact,
			help: violation.help,
			targets: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5)
		}));
	expect(serious, `axe violations (${state})`).toEqual([]);
}

/**
 * The body of a form action's answer to an enhanced post (`use:enhance`, or the send page's
 * XHR): what Kit sends with HTTP 200 for `return fail(status, data)` or a returned `data`.
 */
export function actionAnswer(
	type: 'success' | 'failure',
	status: number,
	data: Record<string, unknown>
): string {
	return JSON.stringify({ type, status, data: stringify(data) });
}

/** Slow the page's uploads down so the progress bar has time to be seen (and cancelled, or left). */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: -1,
		uploadThroughput: bytesPerSecond
	});
}

/** The passphrase the send page's result card shows (four words). */
export async function passphraseOn(page: Page): Promise<string> {
	const text = await page.getByTestId('passphrase').textContent();
	expect(text).toMatch(/^[a-z]+(-[a-z]+){3}$/);
	return text!;
}
