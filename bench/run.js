// `npm run bench`: Raven Zero's upload and download paths under bounded load, beside the
// floors of the same machine, in one run (these machines are noisy: read ratios).
//
//   npm run bench                 the full suite (about 10-15 minutes), including 1 GiB mode
//   npm run bench -- --smoke      a few seconds: tiny cells, fails only if something errors
//   npm run bench -- --no-large   skip the 1 GiB upload and download
//   npm run bench -- --runs 5     repeats per cell (default 3; the median is reported)
//   npm run bench -- --sizes 10MiB  only the cells of these sizes (comma-separated)
//   npm run bench -- --clients 10   only these client counts
//   npm run bench -- --ways access  only this way of calling (passphrase, access)
//   npm run bench -- --storage s3   the files in a bucket of a one-node Swift (S3 API) started
//                                   for the run, beside that engine's raw PUT/GET floor
//
// Every cell is measured in both ways of calling (bench/load.js): with the passphrase, as curl
// does (one scrypt on the server per request), and with the access key, as the pages do (the
// load generator derives it before the clock starts; the server runs HKDF only).
//
// It starts its own redis-server and its own server from build/ (run `npm run build`
// first), drives them from a second process (bench/load.js) on 127.0.0.1, samples the
// server's CPU and RSS from /proc, prints a table and writes bench/results/<time>.json.
//
//   cli.js        the options and what each mode runs
//   floors.js     crypto and scrypt floors, measured in this process
//   processes.js  our server, the floor server (bench/floor-server.js), the load runs
//   report.js     statistics, printed lines, targets, the results files
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, rssMiB, sleep, startRedis } from '../tests/helpers/processes.js';
import { startSwift } from '../tests/helpers/swift.js';
import { GiB, label, readOptions, requestsFor, USAGE } from './cli.js';
import { cryptoFloors, importScryptParams, scryptCost, scryptParallelRate } from './floors.js';
import { runLoad, startApp, startFloor } from './processes.js';
import {
	evaluateTargets,
	printCell,
	printFloors,
	printLarge,
	round,
	summarise,
	writeReport
} from './report.js';

/**
 * One cell: `runs` uploads against our server in each way of calling (load.js: the
 * passphrase, as curl does; the access key, as the pages do) and against the floor's raw
 * sink, then as many downloads of what each way uploaded, and of a stored file from the
 * floor. Resolves one upload and one download row per way, each with the floor beside it.
 */
async function measureCell(options, app, floor, size, concurrency) {
	const requests = requestsFor(options, size, concurrency);
	const load = (server, op, way, url, keys) =>
		runLoad(
			{
				op,
				way,
				url: `${server.url}${url}`,
				size,
				concurrency,
				requests,
				keys,
				scrypt: app.scrypt
			},
			server.pid
		);
	const runs = { floor: { upload: [], download: [] } };
	const keys = {};
	for (const way of options.ways) {
		runs[way] = { upload: [], download: [] };
		keys[way] = [];
	}
	for (let run = 0; run < options.runs; run++) {
		for (const way of options.ways) {
			const up = await load(app, 'upload', way, '/upload/');
			keys[way].push(...up.keys);
			runs[way].upload.push(up);
		}
		runs.floor.upload.push(await load(floor, 'upload', 'raw', '/upload'));
	}
	for (let run = 0; run < options.runs; run++) {
		for (const way of options.ways) {
			const named = keys[way].slice(run * requests);
			runs[way].download.push(await load(app, 'download', way, DOWNLOAD_PATHS[way], named));
		}
		runs.floor.download.push(await load(floor, 'download', 'raw', '/download', [String(size)]));
	}
	return options.ways.flatMap((way) =>
		['upload', 'download'].map((op) => ({
			op,
			way,
			size: label(size),
			bytes: size,
			concurrency,
			requests,
			runs: options.runs,
			...summarise(runs[way][op], size, requests),
			floor: summarise(runs.floor[op], size, requests)
		}))
	);
}

/** Where each way downloads: the seed's GET path with the passphrase, or a POST naming the key. */
const DOWNLOAD_PATHS = { passphrase: '/download', access: '/download/' };

/** One 1 GiB upload and download on a fresh server; RSS growth over idle for each. */
async function measureLarge(app) {
	await sleep(2000);
	const idle = rssMiB(app.pid);
	const spec = { size: GiB, concurrency: 1, requests: 1 };
	const up = await runLoad(
		{ ...spec, op: 'upload', way: 'passphrase', url: `${app.url}/upload/` },
		app.pid
	);
	await sleep(2000);
	const idleBetween = rssMiB(app.pid);
	const down = await runLoad(
		{ ...spec, op: 'download', way: 'passphrase', url: `${app.url}/download`, keys: up.keys },
		app.pid
	);
	return {
		upload_s: round(up.wallMs / 1000, 2),
		download_s: round(down.wallMs / 1000, 2),
		idle_rss_mib: round(idle),
		upload_rss_growth_mib: round(up.peakRss - idle),
		download_rss_growth_mib: round(down.peakRss - idleBetween),
		errors: up.errors + down.errors
	};
}

/** The options, or a sentence and the usage (exit code 2). */
function optionsOrExit() {
	try {
		return readOptions(process.argv.slice(2));
	} catch (error) {
		console.error(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
		process.exit(2);
	}
}

async function main() {
	const options = optionsOrExit();
	if (!existsSync(path.join(ROOT, 'build/handler.js'))) {
		console.error('bench: no build found; run `npm run build` first');
		process.exit(1);
	}
	const started = Date.now();
	const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version };
	console.log(
		`Raven Zero benchmark: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, storage ${options.storage}${options.smoke ? ', smoke mode' : ''}`
	);

	const floors = cryptoFloors();
	const scryptParams = await importScryptParams(ROOT);
	const { N, r, p, keyLength } = scryptParams;
	const scrypt = {
		N,
		r,
		p,
		keyLength,
		ms: await scryptCost(scryptParams, options.scryptRepeats),
		/** scrypts a second with one per core at once, measured (floors.js) */
		parallelRate: await scryptParallelRate(scryptParams, machine.cores, options.smoke ? 300 : 3000)
	};
	printFloors(floors, scrypt);

	const work = mkdtempSync(path.join(tmpdir(), 'raven-bench-'));
	const redis = await startRedis();
	const stops = [() => redis.stop(), () => rmSync(work, { recursive: true, force: true })];
	try {
		// --storage s3: the server and the floor on one bucket of a Swift started for the run.
		let s3Env;
		if (options.storage === 's3') {
			const swift = await startSwift();
			stops.unshift(() => swift.stop());
			s3Env = swift.env(await swift.createBucket());
			console.log(`S3 engine: OpenStack Swift (s3api) on ${swift.endpoint}`);
		}
		const env = s3Env ?? {};
		const server = await startApp(redis.url, work, 'main', { env });
		const app = { url: server.url, pid: server.process.pid, scrypt: scryptParams };
		stops.unshift(() => server.stop());
		const floor = await startFloor(work, options.sizes, s3Env);
		stops.unshift(floor.stop);
		await sleep(1000);
		const idleRss = rssMiB(app.pid);

		const cells = [];
		for (const size of options.sizes) {
			for (const concurrency of options.concurrency) {
				for (const cell of await measureCell(options, app, floor, size, concurrency)) {
					cells.push(cell);
					printCell(cell);
				}
				// Keep the disk from filling with bench drops: each cell's are wiped once it is done.
				rmSync(path.join(server.dir, 'uploads'), { recursive: true, force: true });
				mkdirSync(path.join(server.dir, 'uploads'), { recursive: true });
			}
		}

		// The 1 GiB mode gets a fresh server: after the cells above, the first one's RSS sits on
		// a plateau that would hide any growth.
		let large;
		if (options.large) {
			await server.stop();
			const fresh = await startApp(redis.url, work, 'large', { env });
			try {
				large = await measureLarge({ url: fresh.url, pid: fresh.process.pid });
				printLarge(large);
			} finally {
				await fresh.stop();
			}
		}

		const report = {
			when: new Date().toISOString(),
			machine,
			storage: options.storage,
			scrypt,
			floors,
			idle_rss_mib: round(idleRss),
			cells,
			large,
			duration_s: round((Date.now() - started) / 1000)
		};
		report.targets = options.smoke ? [] : evaluateTargets(report);
		const outFile = writeReport(ROOT, report);
		console.log(
			`\nidle RSS ${round(idleRss)} MiB; written ${path.relative(ROOT, outFile)} (and .md) in ${report.duration_s} s`
		);
		for (const target of report.targets)
			console.log(`${target.ok ? 'PASS' : 'FAIL'}  ${target.name}: ${target.detail}`);
		const errors = cells.reduce((sum, cell) => sum + cell.errors, 0) + (large?.errors ?? 0);
		if (errors > 0) {
			console.error(`bench: ${errors} request(s) failed`);
			process.exitCode = 1;
		} else if (options.smoke) {
			console.log('bench smoke: every request succeeded');
		}
	} finally {
		for (const stop of stops) await stop();
	}
}

await main();
