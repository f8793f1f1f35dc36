import { expect, test, type APIRequestContext } from '@playwright/test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { watchProblems } from './support';

/*
 * The pages' access key (src/lib/access-key.ts, issue #11) in a real Chromium, through its real
 * Web Worker, against the server's derivation in Node.
 *
 * Why a small standalone page and not the app's own: this test calls deriveAccessKey directly
 * with inputs of its choosing, which the app's pages offer no way to do; a test-only hook in
 * the app would ship to production, and importing a hashed /_app/ chunk by name breaks on every
 * build (tests/e2e/keys.spec.ts drives the pages themselves).
 * So this file bundles the module with Vite itself, the bundler of the app's client build, with
 * the same (default) worker handling: `new Worker(new URL(...))` becomes a separate worker file,
 * as it does under /_app/immutable/workers/ in the app. A tiny server sends that page with the
 * headers the BUILT app sends, copied live from the e2e server (global-setup.ts): the page gets
 * the retrieval page's Content-Security-Policy, the scripts get what /_app/ assets get. So a CSP
 * that blocked the worker or its scrypt (say, a WASM library without 'wasm-unsafe-eval') fails
 * here exactly as it would in the app.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Headers that change what a browser allows; copied from the app's responses. */
const PASSED_ON = [
	'content-security-policy',
	'x-content-type-options',
	'x-frame-options',
	'referrer-policy',
	'cross-origin-opener-policy',
	'cross-origin-embedder-policy',
	'cross-origin-resource-policy',
	'permissions-policy'
];

function pick(headers: Record<string, string>): OutgoingHttpHeaders {
	return Object.fromEntries(
		PASSED_ON.filter((name) => name in headers).map((name) => [name, headers[name]])
	);
}

/** The headers of the retrieval page and of one of its /_app/ scripts, as the built app sends them. */
async function appHeaders(request: APIRequestContext) {
	const page = await request.get('/r');
	expect(page.status()).toBe(200);
	const script = /\/_app\/immutable\/[^"']+\.js/.exec(await page.text())?.[0];
	expect(script, 'the retrieval page names an /_app/ script').toBeTruthy();
	const asset = await request.get(script!);
	expect(asset.status()).toBe(200);
	return { page: pick(page.headers()), asset: pick(asset.headers()) };
}

/** Bundle the module and its worker the way the app's client build would, into `dir`/dist. */
async function bundle(dir: string): Promise<string> {
	await writeFile(
		path.join(dir, 'index.html'),
		'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>access key</title>' +
			// No favicon request (it would be a 404 in the console).
			'<link rel="icon" href="data:,">' +
			'<script type="module" src="./entry.ts"></script></head><body><p>access key</p></body></html>'
	);
	await writeFile(
		path.join(dir, 'entry.ts'),
		`import { deriveAccessKey } from ${JSON.stringify(path.join(ROOT, 'src/lib/access-key.ts'))};\n` +
			'(globalThis as unknown as { deriveAccessKey: typeof deriveAccessKey }).deriveAccessKey = deriveAccessKey;\n'
	);
	const outDir = path.join(dir, 'dist');
	await build({
		configFile: false,
		root: dir,
		logLevel: 'warn',
		build: { outDir, emptyOutDir: true }
	});
	return outDir;
}

function serve(folder: string, headers: { page: OutgoingHttpHeaders; asset: OutgoingHttpHeaders }) {
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const name = url.pathname === '/' ? 'index.html' : path.normalize(url.pathname).slice(1);
		const file = path.join(folder, name);
		const type = name.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript';
		readFile(file).then(
			(body) => {
				res.writeHead(200, {
					'content-type': type,
					...(name === 'index.html' ? headers.page : headers.asset)
				});
				res.end(body);
			},
			() => {
				res.writeHead(404).end();
			}
		);
	});
	return new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Normalised by hand here, so the page's normalisation is checked too.
const PASSPHRASES = [
	['  Orbit velvet—GRAVY amulet ', 'orbit-velvet-gravy-amulet'],
	['Abacus.velvet\nGRAVY  amulet', 'abacus-velvet-gravy-amulet'],
	['  Élan\tSTRASSE straße ﬁre ', 'élan-strasse-straße-fire']
] as const;

let dir: string;
let server: Server;
let origin: string;
let headers: { page: OutgoingHttpHeaders; asset: OutgoingHttpHeaders };

test.beforeAll(async ({ request }) => {
	test.setTimeout(120_000); // a Vite build on two shared cores
	headers = await appHeaders(request);
	// A worker fetched over http runs under the policy of its own response: the app sends its
	// worker files with `default-src 'none'` (server/index.js; keys.spec.ts checks the header
	// on the app's own worker), so the scripts here get the same, and the worker must run under it.
	headers.asset['content-security-policy'] = "default-src 'none'";
	dir = await mkdtemp(path.join(tmpdir(), 'raven-access-key-'));
	server = await serve(await bundle(dir), headers);
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
	await new Promise((resolve) => server?.close(resolve));
	if (dir) await rm(dir, { recursive: true, force: true });
});

test('the page derives the same access keys as the server, in a worker, under the app CSP', async ({
	page
}) => {
	test.setTimeout(60_000);
	const csp = String(headers.page['content-security-policy']);
	expect(csp).toContain("script-src 'self'");
	// @noble/hashes is plain JavaScript: the policy needs no exception for WebAssembly.
	expect(csp).not.toContain('wasm-unsafe-eval');

	const problems = await watchProblems(page);
	const workers: string[] = [];
	page.on('worker', (worker) => workers.push(worker.url()));
	await page.goto(origin);
	await page.waitForFunction(() => 'deriveAccessKey' in globalThis);

	const derived = await page.evaluate(
		async (inputs) => {
			const { deriveAccessKey } = globalThis as unknown as {
				deriveAccessKey: (passphrase: string) => Promise<string>;
			};
			const keys: { key: string; ms: number }[] = [];
			for (const input of inputs) {
				const started = performance.now();
				keys.push({ key: await deriveAccessKey(input), ms: performance.now() - started });
			}
			return keys;
		},
		PASSPHRASES.map(([input]) => input)
	);

	for (const [index, [input, normalised]] of PASSPHRASES.entries()) {
		const expected = encodeAccessKey(await accessKeyFromPassphrase(normalised));
		expect(derived[index]!.key, JSON.stringify(input)).toBe(expected);
	}
	expect(new Set(derived.map(({ key }) => key)).size).toBe(PASSPHRASES.length);

	// One worker, bundled as its own same-origin file, served for every derivation.
	expect(workers).toHaveLength(1);
	expect(workers[0]).toMatch(new RegExp(`^${origin}/assets/access-key\\.worker-[\\w-]+\\.js$`));
	test.info().annotations.push({
		type: 'timing',
		description:
			`first key (worker start + module load + scrypt) ${derived[0]!.ms.toFixed(0)} ms, ` +
			`then ${derived
				.slice(1)
				.map(({ ms }) => `${ms.toFixed(0)} ms`)
				.join(', ')}`
	});

	// The same passphrase written another way shares the first one's computation (the very same
	// promise), and a passphrase the server would refuse is refused here, before any work.
	const again = await page.evaluate(async () => {
		const { deriveAccessKey } = globalThis as unknown as {
			deriveAccessKey: (passphrase: string) => Promise<string>;
		};
		const cached = deriveAccessKey('ORBIT-velvet-gravy-amulet');
		const empty = await deriveAccessKey(' -- ').then(
			() => 'resolved',
			(error: Error) => error.name
		);
		return {
			key: await cached,
			shared: cached === deriveAccessKey('orbit velvet gravy amulet'),
			empty
		};
	});
	expect(again).toEqual({ key: derived[0]!.key, shared: true, empty: 'RangeError' });
	expect(workers).toHaveLength(1);

	expect(problems).toEqual({ console: [], pageErrors: [], cspViolations: [] });
});
