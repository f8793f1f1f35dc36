import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open as openFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startRedis, startServer } from '../helpers/processes.js';
import { E2E_ENV } from './settings';

/*
 * A 1 GiB drop downloaded in Chromium must not need 1 GiB of the recipient's memory (issue
 * #13, "big downloads go to disk"). A server of its own takes files that big; the file is
 * uploaded with curl (a page upload would spend minutes to no purpose here). Two downloads:
 *
 * - through the save picker (File System Access API), hashed in the page as it streams into
 *   the file. The picker's dialog is the one thing Playwright cannot click: an init script
 *   stands in for it and hands the page a file of the origin's private file system, which is
 *   the same FileSystemFileHandle and writable stream a picked file gives. The profile is on
 *   disk (a persistent context), so that file is too, and the test hashes it there.
 * - without a picker (as in Firefox or Safari): the browser's own download of a POST form.
 *
 * Memory is read from /proc for every Chromium process this test started (browser, renderer,
 * GPU, utilities): the sum of their resident memory, sampled while the download runs, and each
 * one's high-water mark. Figures go to the test's annotations and the console.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = GiB;
/** What the download may add to the browser's memory at its peak: far below the file's size. */
const MAX_GROWTH_MIB = 384;

const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

let server: Awaited<ReturnType<typeof startServer>>;
let redis: Awaited<ReturnType<typeof startRedis>>;
let workDir: string;
let passphrase: string;
let expectedSha256: string;

test.describe.configure({ mode: 'serial' });

/** Write `size` random bytes to `file` in 16 MiB pieces; their SHA-256. */
async function writeRandomFile(file: string, size: number): Promise<string> {
	const hash = createHash('sha256');
	const handle = await openFile(file, 'w');
	try {
		for (let written = 0; written < size;) {
			const piece = randomBytes(Math.min(16 * MiB, size - written));
			hash.update(piece);
			await handle.write(piece);
			written += piece.byteLength;
		}
	} finally {
		await handle.close();
	}
	return hash.digest('hex');
}

async function sha256OfFile(file: string): Promise<string> {
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) hash.update(chunk);
	return hash.digest('hex');
}

test.beforeAll(async () => {
	test.setTimeout(600_000);
	workDir = await mkdtemp(path.join(tmpdir(), 'raven-zero-big-'));
	redis = await startRedis();
	server = await startServer(
		{
			...E2E_ENV,
			REDIS_URL: redis.url,
			MAX_FILE_SIZE: String(SIZE + MiB),
			UPLOAD_BYTE_LIMIT: '8G/hour',
			REQUEST_TIMEOUT: '1200'
		},
		{ readyTimeoutMs: 60_000 }
	);
	const source = path.join(workDir, 'big.bin');
	expectedSha256 = await writeRandomFile(source, SIZE);
	const { stdout } = await promisify(execFile)(
		'curl',
		[
			'-sS',
			'--fail-with-body',
			'-F',
			'uses=2',
			'-F',
			'expiry=60',
			'-F',
			`file=@${source};type=application/octet-stream`,
			`${server.url}/upload/`
		],
		{ maxBuffer: MiB }
	);
	const created = JSON.parse(stdout) as { key: string; sha256: string; size: number };
	expect(created.size).toBe(SIZE);
	expect(created.sha256).toBe(expectedSha256);
	passphrase = created.key;
	await rm(source);
});

test.afterAll(async () => {
	await server?.stop();
	await redis?.stop();
	if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------- /proc figures

type ChromiumProcess = { pid: number; type: string };

async function readText(file: string): Promise<string> {
	return readFile(file, 'utf8').catch(() => '');
}

/** Every Chromium process started from this test process (children of children included). */
async function chromiumProcesses(): Promise<ChromiumProcess[]> {
	const parents = new Map<number, number>();
	const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
	await Promise.all(
		pids.map(async (pid) => {
			const statLine = await readText(`/proc/${pid}/stat`);
			const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
			if (fields.length > 1) parents.set(pid, Number(fields[1]));
		})
	);
	const ours = (pid: number) => {
		for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
			current = parents.get(current) ?? 0;
			if (current === process.pid) return true;
		}
		return false;
	};
	const found: ChromiumProcess[] = [];
	for (const pid of parents.keys()) {
		if (!ours(pid)) continue;
		// Chromium's children rewrite their command line as one string (their process title).
		const command = (await readText(`/proc/${pid}/cmdline`)).replaceAll('\0', ' ');
		if (!/chrom/.test(command.split(' ')[0] ?? '')) continue;
		const type = /--type=([\w-]+)/.exec(command)?.[1] ?? 'browser';
		const sub = /--utility-sub-type=([\w.]+)/.exec(command)?.[1]?.replace(/\.mojom\..*$/, '');
		found.push({ pid, type: sub ? `${type} (${sub})` : type });
	}
	return found;
}

/** A field of /proc/<pid>/status in MiB (VmRSS now, VmHWM its peak); 0 once it is gone. */
async function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
	const status = await readText(`/proc/${pid}/status`);
	const kiB = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
	return kiB / 1024;
}

async function totalRssMiB(): Promise<number> {
	const processes = await chromiumProcesses();
	const sizes = await Promise.all(processes.map(({ pid }) => statusMiB(pid, 'VmRSS')));
	return sizes.reduce((sum, size) => sum + size, 0);
}

/** Sample the Chromium processes' summed RSS until stopped; stop() gives the peak. */
function sampleTotalRss(everyMs = 250) {
	let peak = 0;
	let running = true;
	const done = (async () => {
		while (running) {
			peak = Math.max(peak, await totalRssMiB());
			await new Promise((resolve) => setTimeout(resolve, everyMs));
		}
	})();
	return {
		async stop() {
			running = false;
			await done;
			return peak;
		}
	};
}

async function highWaterMarks(): Promise<string> {
	const processes = await chromiumProcesses();
	const marks = await Promise.all(
		processes.map(async ({ pid, type }) => ({ type, mib: await statusMiB(pid, 'VmHWM') }))
	);
	return marks
		.sort((a, b) => b.mib - a.mib)
		.map(({ type, mib }) => `${type} ${mib.toFixed(0)}`)
		.join(', ');
}

function report(what: string, figures: Record<string, string>) {
	const line = `${what}: ${Object.entries(figures)
		.map(([name, value]) => `${name} ${value}`)
		.join('; ')}`;
	test.info().annotations.push({ type: 'memory', description: line });
	console.log(line);
}

// ----------------------------------------------------------------------------------- tests

async function launch(profile: string): Promise<BrowserContext> {
	return chromium.launchPersistentContext(profile, {
		executablePath: '/usr/bin/chromium',
		args: CHROMIUM_ARGS,
		baseURL: server.url,
		acceptDownloads: true
	});
}

/** The retrieval page with the drop checked (typed and Enter, as a person would). */
async function checkOnPage(page: Page) {
	await page.goto('/r');
	await expect(page.locator('body.js')).toBeAttached();
	await page.getByLabel('Passphrase').fill(passphrase);
	await page.getByLabel('Passphrase').press('Enter');
	await expect(page.getByTestId('drop-filename')).toHaveText('big.bin', { timeout: 60_000 });
}

/** The largest file under `dir` of exactly `size` bytes (the private file system's copy). */
async function findFileOfSize(dir: string, size: number): Promise<string | undefined> {
	for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
		if (!entry.isFile()) continue;
		const file = path.join(entry.parentPath, entry.name);
		if ((await stat(file).catch(() => null))?.size === size) return file;
	}
	return undefined;
}

test('a 1 GiB download streams into the picked file, checked on the way', async () => {
	test.setTimeout(900_000);
	const profile = path.join(workDir, 'profile-picker');
	const context = await launch(profile);
	// Stands in for the dialog only: a real FileSystemFileHandle, in the origin's file system.
	await context.addInitScript(() => {
		Object.defineProperty(window, 'showSaveFilePicker', {
			configurable: true,
			value: async (options: { suggestedName?: string }) => {
				(window as unknown as { suggestedName?: string }).suggestedName = options.suggestedName;
				const root = await navigator.storage.getDirectory();
				return root.getFileHandle('picked.bin', { create: true });
			}
		});
	});
	const page = context.pages()[0] ?? (await context.newPage());
	await checkOnPage(page);
	await expect(page.getByText('1 GiB', { exact: true })).toBeVisible();

	const before = await totalRssMiB();
	const sampler = sampleTotalRss();
	const started = Date.now();
	await page.getByRole('button', { name: 'Download (2 uses left)' }).click();
	await expect(page.getByRole('progressbar')).toBeVisible({ timeout: 60_000 });
	await expect(page.getByTestId('download-check')).toContainText('✓ Checked', {
		timeout: 840_000
	});
	const seconds = (Date.now() - started) / 1000;
	const peak = await sampler.stop();
	const marks = await highWaterMarks();
	report('1 GiB through the save picker', {
		'summed RSS before': `${before.toFixed(0)} MiB`,
		peak: `${peak.toFixed(0)} MiB`,
		growth: `${(peak - before).toFixed(0)} MiB`,
		'VmHWM per process (MiB)': marks,
		time: `${seconds.toFixed(0)} s`
	});
	await expect(page.getByText('saved in the file you chose')).toBeVisible();
	await expect(page.getByText('1 download left.')).toBeVisible();
	expect(await page.evaluate(() => (window as { suggestedName?: string }).suggestedName)).toBe(
		'big.bin'
	);
	await context.close();

	// The bytes on disk are the file's.
	const written = await findFileOfSize(profile, SIZE);
	expect(written, 'the picked file, in the profile on disk').toBeDefined();
	expect(await sha256OfFile(written!)).toBe(expectedSha256);
	expect(peak - before).toBeLessThan(MAX_GROWTH_MIB);
	await rm(profile, { recursive: true, force: true });
});

test('without a picker, the browser downloads 1 GiB itself from a POST form', async () => {
	test.setTimeout(900_000);
	const profile = path.join(workDir, 'profile-browser');
	const context = await launch(profile);
	// As in a browser without the File System Access API (Firefox, Safari, phones).
	await context.addInitScript(() => {
		Object.defineProperty(window, 'showSaveFilePicker', { configurable: true, value: undefined });
	});
	const posts: { url: string; body: string }[] = [];
	context.on('request', (request) => {
		if (request.method() === 'POST')
			posts.push({ url: request.url(), body: request.postData() ?? '' });
	});
	const page = context.pages()[0] ?? (await context.newPage());
	await checkOnPage(page);

	const before = await totalRssMiB();
	const sampler = sampleTotalRss();
	const started = Date.now();
	const download = page.waitForEvent('download', { timeout: 120_000 });
	// The last use after the test above (the one left when run alone).
	await page.getByRole('button', { name: /^Download/ }).click();
	const saved = await download;
	expect(saved.suggestedFilename()).toBe('big.bin');
	const file = await saved.path(); // resolves once the browser has the whole file
	const seconds = (Date.now() - started) / 1000;
	const peak = await sampler.stop();
	const marks = await highWaterMarks();
	report('1 GiB as the browser own download', {
		'summed RSS before': `${before.toFixed(0)} MiB`,
		peak: `${peak.toFixed(0)} MiB`,
		growth: `${(peak - before).toFixed(0)} MiB`,
		'VmHWM per process (MiB)': marks,
		time: `${seconds.toFixed(0)} s`
	});
	await expect(page.getByText('Handed to your browser')).toBeVisible();
	await expect(page.getByTestId('download-check')).toContainText('Not checked by this page');
	await expect(page.getByText(/That was the last download allowed|1 download left/)).toBeVisible();
	await expect(page.getByText(/leaked/)).toHaveCount(0);

	// The download was a form post with the access key in its body, never the passphrase.
	const download_ = posts.find(({ url }) => new URL(url).pathname === '/download');
	expect(download_?.body).toMatch(/^access_key=[\w-]{43}$/);
	expect(new URL(download_!.url).search).toBe('');
	expect(await sha256OfFile(file)).toBe(expectedSha256);
	expect(peak - before).toBeLessThan(MAX_GROWTH_MIB);
	await context.close();
	await rm(profile, { recursive: true, force: true });
});
