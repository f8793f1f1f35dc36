// How long the pages' scrypt takes in a real Chromium, inside a Web Worker, per library
// (issue #11: the browser derives the access key). Runnable by hand, not part of `npm run bench`:
//
//   npm install --no-save hash-wasm@4.13   (@noble/hashes is a devDependency already)
//   node bench/browser-scrypt.js                  N=2^14, 7 rounds x 5 warm runs per library
//   node bench/browser-scrypt.js --rounds 9 --runs 7 --log2n 14
//
// Each library's worker is bundled by Vite into one file, as the app's build ships a worker
// (/_app/immutable/workers/*.js). Each round starts a FRESH worker per library, both libraries
// back to back in alternating order, and records:
//   start: `new Worker()` until the worker's bundle has loaded and said so;
//   first: the first scrypt in that worker (cold: WASM compile, or JavaScript not yet
//          optimised), so start + first is what a page's first key costs;
//   warm:  each further scrypt in the same worker.
// The machines are shared and often loaded far past their two cores, which stretches wall
// times however the libraries compare. So it also reads the CPU time Chromium's renderer
// processes spent on each phase (/proc/<pid>/task/*/schedstat, nanoseconds: the worker's
// thread plus V8's background compiler and GC threads), which a busy neighbour does not
// inflate, and prints the median of per-round ratios (both libraries seconds apart).
// Every key is checked against node:crypto's. Then the Content-Security-Policy: each library
// once under the app's script-src 'self' alone and once with 'wasm-unsafe-eval'. The worker
// file is served with the page's policy, the strict reading: a worker fetched over http runs
// under the policy of its own response (the app sends its worker files with `default-src 'none'`, stricter still).
//
// Debian's Chromium at /usr/bin/chromium, driven by Playwright; never a downloaded browser.
import { chromium } from '@playwright/test';
import { scrypt as scryptCallback } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'vite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
	const index = args.indexOf(`--${name}`);
	return index === -1 ? fallback : Number(args[index + 1]);
};
const ROUNDS = option('rounds', 7);
const RUNS = option('runs', 5);
const LOG2N = option('log2n', 14);
const PARAMS = { N: 2 ** LOG2N, r: 8, p: 1, dkLen: 32 };
const PASSWORD = 'orbit-velvet-gravy-amulet';
const SALT = 'raven-zero/v2';

/** Per library: the module to bundle and the worker's call of scrypt, giving bytes. */
const LIBRARIES = {
	'hash-wasm': {
		file: 'hash-wasm',
		module: 'node_modules/hash-wasm/dist/index.esm.js',
		code: `import { scrypt } from 'MODULE';
const derive = ({ password, salt, params }) => scrypt({ password, salt, costFactor: params.N,
	blockSize: params.r, parallelism: params.p, hashLength: params.dkLen, outputType: 'binary' });`
	},
	'@noble/hashes': {
		file: 'noble',
		module: 'node_modules/@noble/hashes/scrypt.js',
		code: `import { scrypt } from 'MODULE';
const derive = async ({ password, salt, params }) => scrypt(password, salt, params);`
	}
};

// Runs in each worker after `derive`: say "loaded", then time `runs` scrypts on request.
const WORKER_TAIL = `
self.onmessage = async ({ data }) => {
	try {
		const times = [];
		let key;
		for (let i = 0; i < data.runs; i++) {
			const started = performance.now();
			key = await derive(data);
			times.push(performance.now() - started);
		}
		const hex = Array.from(key, (byte) => byte.toString(16).padStart(2, '0')).join('');
		self.postMessage({ ok: true, times, key: hex });
	} catch (error) {
		self.postMessage({ ok: false, error: String(error) });
	}
};
self.postMessage({ loaded: true });
`;

// The app's policy (svelte.config.js, kit.csp) as far as scripts and workers go.
const STRICT_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'";
const WASM_CSP =
	"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

/** One file per library's worker, bundled and minified by Vite as the app's build would. */
async function bundleWorkers(dir) {
	const entries = {};
	for (const { file, module, code } of Object.values(LIBRARIES)) {
		const entry = path.join(dir, `${file}.src.js`);
		const resolved = path.join(ROOT, module);
		await readFile(resolved).catch(() => {
			throw new Error(`${module} is missing: npm install --no-save hash-wasm@4.13`);
		});
		await writeFile(entry, code.replace('MODULE', resolved) + WORKER_TAIL);
		entries[file] = entry;
	}
	const outDir = path.join(dir, 'dist');
	await build({
		configFile: false,
		root: dir,
		logLevel: 'warn',
		build: {
			outDir,
			emptyOutDir: true,
			minify: true,
			lib: { entry: entries, formats: ['es'], fileName: (_, name) => `${name}.js` }
		}
	});
	return outDir;
}

function serve(folder) {
	let csp = STRICT_CSP;
	const server = createServer(async (req, res) => {
		const name = new URL(req.url ?? '/', 'http://localhost').pathname.slice(1);
		const send = (status, type, body) => {
			res.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': csp });
			res.end(body);
		};
		if (name === '') {
			return send(200, 'text/html; charset=utf-8', '<!doctype html><title>scrypt</title><p>scrypt');
		}
		if (!/^[\w-]+\.js$/.test(name)) return send(404, 'text/plain', 'not found');
		readFile(path.join(folder, name)).then(
			(body) => send(200, 'text/javascript', body),
			() => send(404, 'text/plain', 'not found')
		);
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () => {
			const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
			resolve({ server, origin: `http://127.0.0.1:${port}`, setCsp: (value) => (csp = value) });
		})
	);
}

/**
 * One fresh worker: wall time until its bundle has loaded, then one scrypt (first) and
 * `runs` more (warm), each timed inside the worker; and the renderers' CPU time for the
 * first scrypt and for the warm ones (sampled through `rendererCpuMs`, exposed to the page).
 */
function inFreshWorker(page, lib, runs) {
	return page.evaluate(
		({ file, runs, params, password, salt }) =>
			new Promise((resolve) => {
				const cpu = /** @type {any} */ (globalThis).rendererCpuMs;
				const started = performance.now();
				const out = { start: NaN, times: [], cpu: [] };
				const worker = new Worker(`/${file}.js`, { type: 'module' });
				const finish = (result) => {
					clearTimeout(timer);
					worker.terminate();
					resolve({ ...out, ...result });
				};
				const timer = setTimeout(() => finish({ ok: false, error: 'timed out' }), 120_000);
				const ask = async (count) => {
					out.cpu.push(await cpu());
					worker.postMessage({ runs: count, params, password, salt });
				};
				worker.onerror = (event) => finish({ ok: false, error: `worker error: ${event.message}` });
				worker.onmessage = async ({ data }) => {
					if (data.loaded) {
						out.start = performance.now() - started;
						return ask(1);
					}
					if (!data.ok) return finish(data);
					out.times.push(...data.times);
					if (out.times.length === 1 && runs > 0) return ask(runs);
					out.cpu.push(await cpu());
					finish({ ok: true, key: data.key });
				};
			}),
		{ file: LIBRARIES[lib].file, runs, params: PARAMS, password: PASSWORD, salt: SALT }
	);
}

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** Processes descending from this one (Playwright's Chromium and its renderers), by pid. */
function descendants() {
	const parents = new Map();
	for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
		try {
			const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			parents.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
		} catch {
			// gone meanwhile
		}
	}
	const found = new Set([String(process.pid)]);
	for (let grew = true; grew;) {
		grew = false;
		for (const [pid, parent] of parents) {
			if (!found.has(pid) && found.has(parent)) grew = found.add(pid) && true;
		}
	}
	found.delete(String(process.pid));
	return [...found];
}

/** CPU time (ms) of every thread of our Chromium's renderer processes, from the kernel. */
function rendererCpuMs() {
	let total = 0;
	for (const pid of descendants()) {
		try {
			if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
			for (const tid of readdirSync(`/proc/${pid}/task`)) {
				total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
			}
		} catch {
			// a thread or process that ended meanwhile
		}
	}
	return total / 1e6;
}

const ms = (value) => `${value.toFixed(0)} ms`.padStart(8);

async function main() {
	const scrypt = promisify(scryptCallback);
	const nodeTimes = [];
	let expected = '';
	for (let i = 0; i < RUNS; i++) {
		const started = performance.now();
		const key = await scrypt(PASSWORD, SALT, PARAMS.dkLen, {
			N: PARAMS.N,
			r: PARAMS.r,
			p: PARAMS.p,
			maxmem: 256 * PARAMS.N * PARAMS.r
		});
		nodeTimes.push(performance.now() - started);
		expected = key.toString('hex');
	}

	const dir = await mkdtemp(path.join(tmpdir(), 'raven-scrypt-bench-'));
	const { server, origin, setCsp } = await serve(await bundleWorkers(dir));
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
	});
	try {
		const page = await browser.newPage();
		await page.exposeFunction('rendererCpuMs', rendererCpuMs);

		const cspLines = [];
		for (const [name, value] of [
			["script-src 'self'", STRICT_CSP],
			["script-src 'self' 'wasm-unsafe-eval'", WASM_CSP]
		]) {
			setCsp(value);
			await page.goto(origin);
			for (const lib of Object.keys(LIBRARIES)) {
				const result = await inFreshWorker(page, lib, 0);
				const verdict = result.ok ? 'runs' : `REFUSED (${result.error.slice(0, 80)}...)`;
				cspLines.push(`${lib.padEnd(14)} under ${name.padEnd(36)} ${verdict}`);
			}
		}

		setCsp(WASM_CSP);
		await page.goto(origin);
		const results = Object.fromEntries(
			Object.keys(LIBRARIES).map((lib) => [
				lib,
				{ start: [], first: [], total: [], warm: [], cpuFirst: [], cpuWarm: [] }
			])
		);
		const ratios = { total: [], warm: [], cpuFirst: [], cpuWarm: [] };
		for (let round = 0; round < ROUNDS; round++) {
			const order = Object.keys(LIBRARIES);
			if (round % 2) order.reverse();
			const thisRound = {};
			for (const lib of order) {
				const result = await inFreshWorker(page, lib, RUNS);
				if (!result.ok) throw new Error(`${lib}: ${result.error}`);
				if (result.key !== expected) throw new Error(`${lib} gave ${result.key}, node ${expected}`);
				const [first, ...warm] = result.times;
				const entry = results[lib];
				entry.start.push(result.start);
				entry.first.push(first);
				entry.total.push(result.start + first);
				entry.warm.push(...warm);
				const [c0, c1, c2] = result.cpu;
				entry.cpuFirst.push(c1 - c0);
				entry.cpuWarm.push((c2 - c1) / RUNS);
				thisRound[lib] = {
					total: result.start + first,
					warm: median(warm),
					cpuFirst: c1 - c0,
					cpuWarm: (c2 - c1) / RUNS
				};
			}
			const [wasm, js] = [thisRound['hash-wasm'], thisRound['@noble/hashes']];
			for (const measure of Object.keys(ratios)) ratios[measure].push(js[measure] / wasm[measure]);
		}

		const sizes = await Promise.all(
			Object.values(LIBRARIES).map(async ({ file }) => {
				const body = await readFile(path.join(dir, 'dist', `${file}.js`));
				return `${file}.js ${(body.length / 1024).toFixed(1)} KiB`;
			})
		);
		console.log(
			`scrypt N=2^${LOG2N} r=8 p=1 dkLen=32 in a module Web Worker, Chromium ${browser.version()} ` +
				`headless, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end`
		);
		console.log(
			`${ROUNDS} fresh workers per library x (1 + ${RUNS}) scrypts; every key = node:crypto's; ` +
				`bundles: ${sizes.join(', ')}`
		);
		console.log('');
		console.log('                  wall time (this load)                        renderer CPU time');
		console.log(
			'library           start    first  start+first  warm median  warm min    first     warm  warm min'
		);
		for (const [lib, r] of Object.entries(results)) {
			console.log(
				`${lib.padEnd(14)} ${ms(median(r.start))} ${ms(median(r.first))}     ${ms(median(r.total))}` +
					`     ${ms(median(r.warm))}  ${ms(Math.min(...r.warm))} ${ms(median(r.cpuFirst))} ${ms(median(r.cpuWarm))}` +
					`  ${ms(Math.min(...r.cpuWarm))}`
			);
		}
		console.log(
			`${'node:crypto'.padEnd(14)} ${''.padStart(34)}${ms(median(nodeTimes))}  ${ms(Math.min(...nodeTimes))}  (this process)`
		);
		console.log('');
		const ratio = (measure) => `${median(ratios[measure]).toFixed(2)}x`;
		console.log(
			`@noble/hashes / hash-wasm, median of per-round ratios: wall first key ${ratio('total')}, ` +
				`wall warm ${ratio('warm')}; CPU first ${ratio('cpuFirst')}, CPU warm ${ratio('cpuWarm')}`
		);
		console.log('\nContent-Security-Policy:');
		for (const line of cspLines) console.log(`  ${line}`);
	} finally {
		await browser.close();
		server.close();
		await rm(dir, { recursive: true, force: true });
	}
}

await main();
