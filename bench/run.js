// `npm run bench`: Raven Zero's upload and download paths under bounded load, beside the
// floors of the same machine, in one run (these machines are noisy: read ratios).
//
//   npm run bench                 the full suite (about 5-8 minutes), including 1 GiB mode
//   npm run bench -- --smoke      a few seconds: tiny cells, fails only if something errors
//   npm run bench -- --no-large   skip the 1 GiB upload and download
//   npm run bench -- --runs 5     repeats per cell (default 3; the median is reported)
//   npm run bench -- --sizes 10MiB  only the cells of these sizes (comma-separated)
//
// It starts its own redis-server and its own server from build/ (run `npm run build`
// first), drives them from a second process (bench/load.js) on 127.0.0.1, samples the
// server's CPU and RSS from /proc, prints a table and writes bench/results/<time>.json.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { NODE_FLAGS, SERVER_ENV } from '../server/shared.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const SMOKE = args.includes('--smoke');
const LARGE = !SMOKE && !args.includes('--no-large');
const RUNS = SMOKE ? 1 : Number(args[args.indexOf('--runs') + 1] || 3) || 3;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** `--sizes 1KiB,10MiB` runs only those cells (to look into one of them). */
const parseSize = (text) => {
	const match = /^(\d+)(KiB|MiB)$/.exec(text);
	if (!match) throw new Error(`bench: unknown size ${text} (use e.g. 1KiB or 10MiB)`);
	return Number(match[1]) * (match[2] === 'KiB' ? KiB : MiB);
};
const SIZES = SMOKE
	? [KiB, 256 * KiB]
	: args.includes('--sizes')
		? args[args.indexOf('--sizes') + 1].split(',').map(parseSize)
		: [KiB, MiB, 10 * MiB];
const CONCURRENCY = SMOKE ? [1, 4] : [1, 10, 50];
/**
 * Requests per run: at most 200, and at most ~400 MiB, but at least four per client, so that a
 * p95 is not simply the slowest request of the first wave (10 MiB at c=10: 40 requests).
 */
const requestsFor = (size, concurrency) =>
	SMOKE
		? concurrency * 3
		: Math.max(
				concurrency,
				4 * Math.min(concurrency, 10),
				Math.min(200, Math.floor((400 * MiB) / size))
			);

const SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

// ------------------------------------------------------------------ helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const percentile = (values, p) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const label = (size) =>
	size >= GiB ? `${size / GiB} GiB` : size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`;

async function freePort() {
	const server = createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address();
	server.close();
	return port;
}

/** Spawn a process and resolve once a stdout line satisfies `ready` (its parsed JSON). */
async function startProcess(command, argv, env, ready) {
	const child = spawn(command, argv, {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let stderr = '';
	child.stderr.on('data', (d) => (stderr += d));
	const found = await new Promise((resolve, reject) => {
		let buffer = '';
		const timer = setTimeout(
			() => reject(new Error(`${command} did not start: ${stderr}`)),
			20_000
		);
		child.stdout.on('data', (chunk) => {
			buffer += chunk;
			for (const line of buffer.split('\n').slice(0, -1)) {
				try {
					const parsed = JSON.parse(line);
					if (ready(parsed)) {
						clearTimeout(timer);
						resolve(parsed);
					}
				} catch {
					// not JSON
				}
			}
			buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
		});
		child.on('exit', (code) => reject(new Error(`${command} exited (${code}): ${stderr}`)));
	});
	child.stdout.resume();
	return { child, found };
}

async function stopProcess(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = once(child, 'exit');
	child.kill('SIGTERM');
	await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

/** utime + stime of a process, in ms (from /proc/<pid>/stat, clock ticks at 100 Hz). */
function cpuMs(pid) {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(fields[11]) + Number(fields[12])) * 10;
}
function rssMiB(pid) {
	const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return match ? Number(match[1]) / 1024 : 0;
}

/** Sample a process's RSS every 25 ms until stopped; resolves the peak. */
function sampleRss(pid) {
	let peak = rssMiB(pid);
	const timer = setInterval(() => {
		try {
			peak = Math.max(peak, rssMiB(pid));
		} catch {
			// exited
		}
	}, 25);
	return () => {
		clearInterval(timer);
		return peak;
	};
}

/** One cell in the load process, with the server's CPU and peak RSS around it. */
async function runLoad(spec, serverPid) {
	const cpuBefore = serverPid ? cpuMs(serverPid) : 0;
	const stopSampling = serverPid ? sampleRss(serverPid) : () => 0;
	const child = spawn(process.execPath, [path.join(ROOT, 'bench/load.js'), JSON.stringify(spec)], {
		stdio: ['ignore', 'pipe', 'inherit']
	});
	let out = '';
	child.stdout.on('data', (d) => (out += d));
	await once(child, 'exit');
	const peakRss = stopSampling();
	const result = JSON.parse(out);
	const cpu = serverPid ? cpuMs(serverPid) - cpuBefore : 0;
	return { ...result, peakRss, cpuPerRequestMs: cpu / spec.requests };
}

function summarise(runs, size, requests) {
	const pick = (fn) => median(runs.map(fn));
	const throughputs = runs.map((r) => (requests * size) / MiB / (r.wallMs / 1000));
	return {
		p50: pick((r) => percentile(r.latencies, 50)),
		p95: pick((r) => percentile(r.latencies, 95)),
		p99: pick((r) => percentile(r.latencies, 99)),
		rps: pick((r) => requests / (r.wallMs / 1000)),
		mbps: median(throughputs),
		errors: runs.reduce((sum, r) => sum + r.errors, 0),
		cpuMs: pick((r) => r.cpuPerRequestMs),
		peakRss: Math.max(...runs.map((r) => r.peakRss)),
		// How noisy: the spread of throughput over the runs, relative to the median.
		spread:
			throughputs.length > 1
				? (Math.max(...throughputs) - Math.min(...throughputs)) / median(throughputs)
				: 0
	};
}

// ------------------------------------------------------------------ floors in-process

function cryptoFloors() {
	const data = randomBytes(10 * MiB);
	const key = randomBytes(32);
	const timeIt = (fn, repeats = 5) => {
		const times = [];
		for (let i = 0; i < repeats; i++) {
			const started = performance.now();
			fn();
			times.push(performance.now() - started);
		}
		return median(times);
	};
	const chunk = 64 * KiB;
	const sealChunked = () => {
		for (let offset = 0, counter = 0; offset < data.length; offset += chunk, counter++) {
			const nonce = Buffer.alloc(12);
			nonce.writeUIntBE(counter, 5, 6);
			const cipher = createCipheriv('aes-256-gcm', key, nonce);
			cipher.update(data.subarray(offset, offset + chunk));
			cipher.final();
			cipher.getAuthTag();
		}
	};
	const sealOnce = () => {
		const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
		cipher.update(data);
		cipher.final();
	};
	const sha = () => createHash('sha256').update(data).digest();
	const aesChunkedMs = timeIt(sealChunked);
	const aesOnceMs = timeIt(sealOnce);
	const shaMs = timeIt(sha);
	return {
		aes_gcm_64k_chunks_mbps: round(10 / (aesChunkedMs / 1000)),
		aes_gcm_single_mbps: round(10 / (aesOnceMs / 1000)),
		sha256_mbps: round(10 / (shaMs / 1000)),
		/** What 10 MiB costs in pure crypto work: seal (64 KiB chunks) + hash. */
		seal_plus_hash_10mib_ms: round(aesChunkedMs + shaMs)
	};
}

async function scryptCost() {
	const times = [];
	for (let i = 0; i < (SMOKE ? 2 : 10); i++) {
		const started = performance.now();
		await new Promise((resolve, reject) =>
			scryptCallback(
				'ocean-velvet-gravy-amulet',
				'raven-zero/v1',
				32,
				{ ...SCRYPT, maxmem: 64 * MiB },
				(e) => (e ? reject(e) : resolve())
			)
		);
		times.push(performance.now() - started);
	}
	return round(median(times));
}

// ------------------------------------------------------------------ main

async function main() {
	if (!existsSync(path.join(ROOT, 'build/handler.js'))) {
		console.error('bench: no build found; run `npm run build` first');
		process.exit(1);
	}
	const started = Date.now();
	const work = mkdtempSync(path.join(tmpdir(), 'raven-bench-'));
	const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version };
	console.log(
		`Raven Zero benchmark: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}${SMOKE ? ', smoke mode' : ''}`
	);

	const floors = cryptoFloors();
	const scryptMs = await scryptCost();
	console.log(
		`floors: AES-256-GCM ${floors.aes_gcm_64k_chunks_mbps} MB/s in 64 KiB chunks (${floors.aes_gcm_single_mbps} in one), SHA-256 ${floors.sha256_mbps} MB/s, scrypt N=2^14 r=8 p=1: ${scryptMs} ms`
	);

	const redisPort = await freePort();
	const redis = spawn(
		'redis-server',
		['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{
			stdio: 'ignore'
		}
	);
	await sleep(300);

	const app = await startApp(redisPort, work, 'main').catch(async (error) => {
		redis.kill();
		throw error;
	});
	const appUrl = `http://127.0.0.1:${app.found.port}`;
	const floor = await startProcess(
		process.execPath,
		['bench/floor-server.js', path.join(work, 'floor'), SIZES.join(',')],
		{},
		(line) => typeof line.port === 'number'
	);
	const floorUrl = `http://127.0.0.1:${floor.found.port}`;
	await sleep(1000);
	const idleRss = rssMiB(app.child.pid);

	const cells = [];
	try {
		for (const size of SIZES) {
			for (const concurrency of CONCURRENCY) {
				const requests = requestsFor(size, concurrency);
				const runs = { upload: [], uploadFloor: [], download: [], downloadFloor: [] };
				const keys = [];
				for (let run = 0; run < RUNS; run++) {
					const up = await runLoad(
						{ op: 'upload', url: `${appUrl}/upload/`, size, concurrency, requests },
						app.child.pid
					);
					keys.push(...up.keys);
					runs.upload.push(up);
					runs.uploadFloor.push(
						await runLoad(
							{ op: 'upload', url: `${floorUrl}/upload`, size, concurrency, requests },
							floor.child.pid
						)
					);
				}
				for (let run = 0; run < RUNS; run++) {
					runs.download.push(
						await runLoad(
							{
								op: 'download',
								url: `${appUrl}/download`,
								size,
								concurrency,
								requests,
								keys: keys.slice(run * requests)
							},
							app.child.pid
						)
					);
					runs.downloadFloor.push(
						await runLoad(
							{
								op: 'download',
								url: `${floorUrl}/download`,
								size,
								concurrency,
								requests,
								keys: [String(size)]
							},
							floor.child.pid
						)
					);
				}
				for (const op of ['upload', 'download']) {
					const cell = {
						op,
						size: label(size),
						bytes: size,
						concurrency,
						requests,
						runs: RUNS,
						...summarise(runs[op], size, requests),
						floor: summarise(runs[`${op}Floor`], size, requests)
					};
					cells.push(cell);
					printCell(cell);
				}
				// Keep the disk from filling with bench drops: each cell's are wiped once it is done.
				rmSync(path.join(work, 'main', 'uploads'), { recursive: true, force: true });
				mkdirSync(path.join(work, 'main', 'uploads'), { recursive: true });
			}
		}

		// The 1 GiB mode gets a fresh server: after the cells above, the first one's RSS sits on
		// a plateau that would hide any growth.
		let large;
		if (LARGE) {
			await stopProcess(app.child);
			const fresh = await startApp(redisPort, work, 'large');
			try {
				large = await largeMode(`http://127.0.0.1:${fresh.found.port}`, fresh.child.pid);
			} finally {
				await stopProcess(fresh.child);
			}
		}

		const report = {
			when: new Date().toISOString(),
			machine,
			scrypt: { ...SCRYPT, ms: scryptMs },
			floors,
			idle_rss_mib: round(idleRss),
			cells,
			large,
			duration_s: round((Date.now() - started) / 1000)
		};
		report.targets = SMOKE ? [] : evaluateTargets(report);
		const outDir = path.join(ROOT, 'bench/results');
		mkdirSync(outDir, { recursive: true });
		const outFile = path.join(outDir, `${report.when.replace(/[:.]/g, '-')}.json`);
		writeFileSync(outFile, JSON.stringify(report, null, 2));
		writeFileSync(outFile.replace(/\.json$/, '.md'), markdownTable(report));
		console.log(
			`\nidle RSS ${round(idleRss)} MiB; written ${path.relative(ROOT, outFile)} (and .md) in ${report.duration_s} s`
		);
		for (const target of report.targets)
			console.log(`${target.ok ? 'PASS' : 'FAIL'}  ${target.name}: ${target.detail}`);
		const errors = cells.reduce((sum, cell) => sum + cell.errors, 0) + (large?.errors ?? 0);
		if (errors > 0) {
			console.error(`bench: ${errors} request(s) failed`);
			process.exitCode = 1;
		} else if (SMOKE) {
			console.log('bench smoke: every request succeeded');
		}
	} finally {
		await stopProcess(app.child);
		await stopProcess(floor.child);
		redis.kill('SIGTERM');
		rmSync(work, { recursive: true, force: true });
	}
}

/** The cells as the README's table (bench/results/<time>.md). */
function markdownTable(report) {
	const header = [
		'op',
		'size',
		'clients',
		'p50 ms',
		'p95 ms',
		'p99 ms',
		'req/s',
		'MB/s',
		'floor MB/s',
		'of floor',
		'CPU ms/req',
		'floor CPU ms/req',
		'peak RSS MiB'
	];
	const rows = report.cells.map((cell) => [
		cell.op,
		cell.size,
		cell.concurrency,
		Math.round(cell.p50),
		Math.round(cell.p95),
		Math.round(cell.p99),
		round(cell.rps),
		round(cell.mbps),
		Math.round(cell.floor.mbps),
		`${Math.round((100 * cell.mbps) / cell.floor.mbps)} %`,
		Math.round(cell.cpuMs),
		round(cell.floor.cpuMs),
		Math.round(cell.peakRss)
	]);
	const line = (values) => `| ${values.join(' | ')} |`;
	const targets = (report.targets ?? []).map(
		(target) => `- ${target.ok ? 'PASS' : 'FAIL'} ${target.name}: ${target.detail}`
	);
	return [line(header), line(header.map(() => '---')), ...rows.map(line), '', ...targets, ''].join(
		'\n'
	);
}

function printCell(cell) {
	const ratio = cell.mbps / cell.floor.mbps;
	console.log(
		`${cell.op.padEnd(8)} ${cell.size.padStart(7)} c=${String(cell.concurrency).padEnd(3)} ` +
			`p50 ${round(cell.p50).toString().padStart(7)} ms  p95 ${round(cell.p95).toString().padStart(7)}  p99 ${round(cell.p99).toString().padStart(7)}  ` +
			`${round(cell.rps).toString().padStart(7)} req/s ${round(cell.mbps).toString().padStart(7)} MB/s ` +
			`(floor ${round(cell.floor.mbps)} MB/s, p50 ${round(cell.floor.p50)} ms, cpu ${round(cell.floor.cpuMs)} ms; ${Math.round(ratio * 100)}%)  ` +
			`cpu ${round(cell.cpuMs)} ms/req  rss≤${round(cell.peakRss)} MiB  err ${cell.errors}  noise ±${Math.round(cell.spread * 50)}%`
	);
}

/**
 * Our server from build/, on the bench's Redis, with the memory settings of `npm start`.
 * `name` keeps each server's folders apart.
 */
function startApp(redisPort, work, name) {
	return startProcess(
		process.execPath,
		[...NODE_FLAGS, 'server/index.js'],
		{
			...SERVER_ENV,
			PORT: '0',
			HOST: '127.0.0.1',
			REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
			STORAGE_PATH: path.join(work, name, 'uploads'),
			TEMP_PATH: path.join(work, name, 'temp'),
			LOG_PATH: path.join(work, name, 'logs/raven_zero.log'),
			MAX_FILE_SIZE: String(GiB + MiB),
			UPLOAD_RATE_LIMIT: '1000000/hour',
			LOOKUP_RATE_LIMIT: '1000000/hour',
			HEALTH_RATE_LIMIT: '1000/second',
			MIN_FREE_DISK_MB: '0'
		},
		(line) => line.event === 'listening'
	);
}

/** One 1 GiB upload and download; RSS growth over idle for each. */
async function largeMode(appUrl, pid) {
	await sleep(2000);
	const idle = rssMiB(pid);
	const up = await runLoad(
		{ op: 'upload', url: `${appUrl}/upload/`, size: GiB, concurrency: 1, requests: 1 },
		pid
	);
	await sleep(2000);
	const idleBetween = rssMiB(pid);
	const down = await runLoad(
		{
			op: 'download',
			url: `${appUrl}/download`,
			size: GiB,
			concurrency: 1,
			requests: 1,
			keys: up.keys
		},
		pid
	);
	const result = {
		upload_s: round(up.wallMs / 1000, 2),
		download_s: round(down.wallMs / 1000, 2),
		idle_rss_mib: round(idle),
		upload_rss_growth_mib: round(up.peakRss - idle),
		download_rss_growth_mib: round(down.peakRss - idleBetween),
		errors: up.errors + down.errors
	};
	console.log(
		`large    1 GiB  upload ${result.upload_s} s (RSS +${result.upload_rss_growth_mib} MiB), ` +
			`download ${result.download_s} s (RSS +${result.download_rss_growth_mib} MiB), idle ${result.idle_rss_mib} MiB`
	);
	return result;
}

function evaluateTargets(report) {
	const cell = (op, bytes, concurrency) =>
		report.cells.find((c) => c.op === op && c.bytes === bytes && c.concurrency === concurrency);
	const targets = [];
	const add = (name, ok, detail) => targets.push({ name, ok, detail });
	const up10 = cell('upload', 10 * MiB, 10);
	if (up10) {
		add(
			'10 MiB upload c=10 throughput ≥ 60% of the raw-sink floor',
			up10.mbps >= 0.6 * up10.floor.mbps,
			`${round(up10.mbps)} vs ${round(up10.floor.mbps)} MB/s (${Math.round((100 * up10.mbps) / up10.floor.mbps)}%)`
		);
		add('10 MiB upload c=10 p95 < 500 ms', up10.p95 < 500, `${round(up10.p95)} ms`);
	}
	for (const op of ['upload', 'download']) {
		const c50 = cell(op, MiB, 50);
		if (c50)
			add(
				`1 MiB ${op} c=50: no errors, p95 ≤ 250 ms`,
				c50.errors === 0 && c50.p95 <= 250,
				`${c50.errors} errors, p95 ${round(c50.p95)} ms`
			);
	}
	const d10 = cell('download', 10 * MiB, 1);
	if (d10)
		add(
			'10 MiB download c=1 p50 ≤ scrypt + 20 ms',
			d10.p50 <= report.scrypt.ms + 20,
			`${round(d10.p50)} ms vs ${report.scrypt.ms} + 20`
		);
	const d1 = cell('download', KiB, 1);
	if (d1)
		add(
			'1 KiB download c=1 p50 ≤ scrypt + 5 ms',
			d1.p50 <= report.scrypt.ms + 5,
			`${round(d1.p50)} ms vs ${report.scrypt.ms} + 5`
		);
	const u50 = cell('upload', 10 * MiB, 50);
	if (u50)
		add(
			'peak RSS during 50 concurrent 10 MiB uploads ≤ 250 MB',
			u50.peakRss * 1.048576 <= 250,
			`${round(u50.peakRss * 1.048576)} MB`
		);
	if (report.large) {
		add(
			'1 GiB upload grows RSS ≤ 64 MB',
			report.large.upload_rss_growth_mib * 1.048576 <= 64,
			`+${round(report.large.upload_rss_growth_mib * 1.048576)} MB`
		);
		add(
			'1 GiB download grows RSS ≤ 64 MB',
			report.large.download_rss_growth_mib * 1.048576 <= 64,
			`+${round(report.large.download_rss_growth_mib * 1.048576)} MB`
		);
	}
	const u1 = cell('upload', 10 * MiB, 1);
	if (u1)
		add(
			'server CPU per 10 MiB upload ≤ 1.5 × (AES-GCM seal + SHA-256 of 10 MiB)',
			u1.cpuMs <= 1.5 * report.floors.seal_plus_hash_10mib_ms,
			`${round(u1.cpuMs)} ms vs 1.5 × ${report.floors.seal_plus_hash_10mib_ms} ms ` +
				// What no implementation of the design can go below: the one scrypt every upload
				// pays, the raw floor server's own CPU for the same request, and seal + hash.
				`(bound: scrypt ${report.scrypt.ms} + floor server ${round(u1.floor.cpuMs)} + seal+hash ${report.floors.seal_plus_hash_10mib_ms} = ` +
				`${round(report.scrypt.ms + u1.floor.cpuMs + report.floors.seal_plus_hash_10mib_ms)} ms)`
		);
	return targets;
}

await main();
