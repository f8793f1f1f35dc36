import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { readZip } from '../helpers/zip';
import { E2E_MAX_FILE_SIZE } from './settings';
import {
	dropFiles,
	expectAccessible,
	NO_PROBLEMS,
	open,
	randomFile,
	type TestFile,
	watchProblems,
	withoutExpectedHttpErrors
} from './support';

/*
 * What a drop holds (issue #13, "What to add" 2 and 3): several files or a folder sent as one
 * zip built in the browser, listed before sending and for the recipient; and text typed in
 * the Text tab, shown to the recipient as text with a Copy button. Against the built server
 * and a real Redis; the recipient in a browser context of their own.
 */

const DROP_ZONE = 'label:has(input[type=file])';

type Status = {
	status: string;
	filename: string;
	mime_type: string;
	kind: string | null;
	contents: { name: string; size: number }[] | null;
};

async function send(page: Page): Promise<string> {
	await page.getByRole('button', { name: 'Upload and get a passphrase' }).click();
	const shown = page.getByTestId('passphrase');
	await expect(shown).toBeVisible({ timeout: 30_000 });
	const passphrase = (await shown.textContent())!;
	expect(passphrase).toMatch(/^[a-z]+(-[a-z]+){3}$/);
	return passphrase;
}

async function recipientChecks(browser: Browser, passphrase: string) {
	const context = await browser.newContext({ acceptDownloads: true });
	const page = await context.newPage();
	const problems = await watchProblems(page);
	await open(page, '/r');
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(page.getByTestId('drop-filename')).toBeVisible({ timeout: 30_000 });
	return { context, page, problems };
}

/** What the sender's list says of each file: its name, then its size. */
function listed(files: { name: string; size: string }[]): RegExp[] {
	return files.map(
		({ name, size }) => new RegExp(`^\\s*${name.replaceAll('.', '\\.')}\\s*${size}\\s*$`)
	);
}

test('several files dropped at once go as one zip, listed before sending and for the recipient', async ({
	page,
	browser,
	request
}) => {
	test.setTimeout(180_000);
	const problems = await watchProblems(page);
	const files: TestFile[] = [
		randomFile('notes.txt', 1200, 'text/plain'),
		randomFile('photo.jpg', 40 * 1024, 'image/jpeg'),
		randomFile('data.bin', 300 * 1024)
	];
	await open(page, '/');
	await dropFiles(page, DROP_ZONE, files);

	// Before sending: how many, how much, and every name with its size.
	await expect(page.getByText('3 files, sent as one zip')).toBeVisible();
	const sending = page.getByRole('list', { name: 'Files to send' }).getByRole('listitem');
	await expect(sending).toHaveText(
		listed([
			{ name: 'notes.txt', size: '1.2 KiB' },
			{ name: 'photo.jpg', size: '40 KiB' },
			{ name: 'data.bin', size: '300 KiB' }
		])
	);
	await expectAccessible(page, 'send page, several files');
	const passphrase = await send(page);

	// The list is sealed with the metadata; status (by passphrase) opens it.
	const status = (await (await request.get(`/status/${passphrase}`)).json()) as Status;
	expect(status).toMatchObject({
		status: 'active',
		filename: 'files.zip',
		mime_type: 'application/zip',
		kind: 'archive',
		contents: [
			{ name: 'notes.txt', size: 1200 },
			{ name: 'photo.jpg', size: 40 * 1024 },
			{ name: 'data.bin', size: 300 * 1024 }
		]
	});

	const recipient = await recipientChecks(browser, passphrase);
	await expect(
		recipient.page.getByRole('heading', { name: '3 files in one zip are waiting for you' })
	).toBeVisible();
	await expect(
		recipient.page
			.getByRole('list', { name: 'Files in the zip, as listed by the sender' })
			.getByRole('listitem')
	).toHaveText(
		listed([
			{ name: 'notes.txt', size: '1.2 KiB' },
			{ name: 'photo.jpg', size: '40 KiB' },
			{ name: 'data.bin', size: '300 KiB' }
		])
	);
	await expectAccessible(recipient.page, 'retrieval page, a zip of several files');
	const saved = recipient.page.waitForEvent('download');
	await recipient.page.getByRole('button', { name: /^Download/ }).click();
	const download = await saved;
	expect(download.suggestedFilename()).toBe('files.zip');
	const entries = readZip(await readFile((await download.path())!));
	expect(entries.map((entry) => entry.name)).toEqual(['notes.txt', 'photo.jpg', 'data.bin']);
	entries.forEach((entry, i) => expect(entry.data.equals(files[i]!.buffer)).toBe(true));
	// The page checked the zip's SHA-256 as for any file.
	await expect(recipient.page.getByText('✓ Checked: the bytes saved have exactly')).toBeVisible();

	expect(problems).toEqual(NO_PROBLEMS);
	expect(recipient.problems).toEqual(NO_PROBLEMS);
	await recipient.context.close();
});

test('a folder chosen with the folder picker keeps its paths inside the zip', async ({
	page,
	browser
}) => {
	test.setTimeout(180_000);
	const dir = await mkdtemp(path.join(tmpdir(), 'raven-folder-'));
	try {
		const folder = path.join(dir, 'holiday');
		await mkdir(path.join(folder, 'day two'), { recursive: true });
		const first = randomFile('plan.txt', 500).buffer;
		const second = randomFile('map.bin', 2048).buffer;
		await writeFile(path.join(folder, 'plan.txt'), first);
		await writeFile(path.join(folder, 'day two', 'map.bin'), second);

		await open(page, '/');
		await page.getByLabel('Choose a folder').setInputFiles(folder);
		await expect(page.getByText('2 files, sent as one zip')).toBeVisible();
		const names = page
			.getByRole('list', { name: 'Files to send' })
			.getByRole('listitem')
			.locator('.name');
		await expect(names).toHaveCount(2);
		expect((await names.allTextContents()).sort()).toEqual([
			'holiday/day two/map.bin',
			'holiday/plan.txt'
		]);
		const passphrase = await send(page);

		const recipient = await recipientChecks(browser, passphrase);
		await expect(recipient.page.getByTestId('drop-filename')).toHaveText('holiday.zip');
		const saved = recipient.page.waitForEvent('download');
		await recipient.page.getByRole('button', { name: /^Download/ }).click();
		const entries = readZip(await readFile((await (await saved).path())!));
		const byName = new Map(entries.map((entry) => [entry.name, entry.data]));
		expect([...byName.keys()].sort()).toEqual(['holiday/day two/map.bin', 'holiday/plan.txt']);
		expect(byName.get('holiday/plan.txt')!.equals(first)).toBe(true);
		expect(byName.get('holiday/day two/map.bin')!.equals(second)).toBe(true);
		await recipient.context.close();
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
});

test('several files whose zip is over the size limit are refused before a byte is sent', async ({
	page
}) => {
	const uploads: string[] = [];
	page.on('request', (req) => {
		if (req.method() === 'POST') uploads.push(req.url());
	});
	await open(page, '/');
	const half = Math.ceil(E2E_MAX_FILE_SIZE / 2);
	await dropFiles(page, DROP_ZONE, [randomFile('a.bin', half), randomFile('b.bin', half)]);
	await expect(page.getByRole('alert')).toContainText('These 2 files make a zip of 1 MiB');
	await expect(page.getByRole('alert')).toContainText('Nothing was uploaded');
	// As for one file too large: Upload stays off until other files are chosen.
	await expect(page.getByRole('button', { name: 'Upload and get a passphrase' })).toBeDisabled();
	expect(uploads).toEqual([]);
});

test('text sent from the Text tab is shown as text after its download, with a Copy button', async ({
	page,
	browser,
	request
}) => {
	test.setTimeout(180_000);
	const text = 'Meet at 7 — “bring the key” 🐦\n  indented line\nlast line, no newline';
	await open(page, '/');
	await page.getByRole('tab', { name: 'Text' }).click();
	await page.getByLabel('Text to send').fill(text);
	await page.getByRole('radio', { name: '2' }).check();
	const passphrase = await send(page);

	const status = (await (await request.get(`/status/${passphrase}`)).json()) as Status;
	expect(status).toMatchObject({ kind: 'text', contents: null, filename: 'message.txt' });

	const context = await browser.newContext({
		acceptDownloads: true,
		permissions: ['clipboard-read', 'clipboard-write']
	});
	const recipient = await context.newPage();
	const problems = await watchProblems(recipient);
	const downloads: string[] = [];
	recipient.on('download', (download) => downloads.push(download.suggestedFilename()));
	await open(recipient, '/r');
	await recipient.getByLabel('Passphrase').fill(passphrase);
	await recipient.getByRole('button', { name: 'Check what is waiting' }).click();
	await expect(recipient.getByRole('heading', { name: 'A text is waiting for you' })).toBeVisible({
		timeout: 30_000
	});
	// Nothing is shown before the download that uses it up.
	await expect(recipient.getByLabel('Text received')).toHaveCount(0);
	await recipient.getByRole('button', { name: /^Download/ }).click();

	const shown = recipient.getByRole('textbox', { name: 'Text received' });
	await expect(shown).toHaveValue(text);
	await expect(shown).toHaveAttribute('readonly', '');
	await expect(recipient.getByText('1 download left.')).toBeVisible();
	await expectAccessible(recipient, 'retrieval page, text shown');
	await recipient.getByRole('button', { name: 'Copy text' }).click();
	await expect(recipient.getByRole('button', { name: 'Copied ✓' })).toBeVisible();
	expect(await recipient.evaluate(() => navigator.clipboard.readText())).toBe(text);
	expect(downloads).toEqual([]);

	// curl still gets the bytes, as they were typed.
	const bytes = await request.get(`/download/${passphrase}`);
	expect(bytes.status()).toBe(200);
	expect((await bytes.body()).toString('utf8')).toBe(text);
	expect(withoutExpectedHttpErrors(problems, [])).toEqual(NO_PROBLEMS);
	await context.close();
});
