// What the bench makes of its measurements: the statistics of a cell, the lines it prints,
// the targets of issues #5 and #11, and bench/results/<time>.json and .md.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KiB, MiB } from './cli.js';

export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values, p) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** MiB as the targets state them: MB. */
const toMB = (mib) => mib * 1.048576;

/**
 * The runs of one cell (one op, size and client count) as medians over the runs; peak RSS is
 * the highest of any run.
 */
export function summarise(runs, size, requests) {
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

export function printFloors(floors, scrypt) {
	console.log(
		`floors: AES-256-GCM ${floors.aes_gcm_64k_chunks_mbps} MB/s in 64 KiB chunks (${floors.aes_gcm_single_mbps} in one), SHA-256 ${floors.sha256_mbps} MB/s, scrypt N=2^${Math.log2(scrypt.N)} r=${scrypt.r} p=${scrypt.p}: ${scrypt.ms} ms (${scrypt.parallelRate}/s on all cores at once)`
	);
}

export function printCell(cell) {
	const ratio = cell.mbps / cell.floor.mbps;
	console.log(
		`${cell.op.padEnd(8)} ${cell.way.padEnd(10)} ${cell.size.padStart(7)} c=${String(cell.concurrency).padEnd(3)} ` +
			`p50 ${round(cell.p50).toString().padStart(7)} ms  p95 ${round(cell.p95).toString().padStart(7)}  p99 ${round(cell.p99).toString().padStart(7)}  ` +
			`${round(cell.rps).toString().padStart(7)} req/s ${round(cell.mbps).toString().padStart(7)} MB/s ` +
			`(floor ${round(cell.floor.mbps)} MB/s, p50 ${round(cell.floor.p50)} ms, cpu ${round(cell.floor.cpuMs)} ms; ${Math.round(ratio * 100)}%)  ` +
			`cpu ${round(cell.cpuMs)} ms/req  rss≤${round(cell.peakRss)} MiB  err ${cell.errors}  noise ±${Math.round(cell.spread * 50)}%`
	);
}

export function printLarge(large) {
	console.log(
		`large    1 GiB  upload ${large.upload_s} s (RSS +${large.upload_rss_growth_mib} MiB), ` +
			`download ${large.download_s} s (RSS +${large.download_rss_growth_mib} MiB), idle ${large.idle_rss_mib} MiB`
	);
}

/** The cells as the README's table (bench/results/<time>.md). */
function markdownTable(report) {
	const header = [
		'op',
		'way',
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
		cell.way,
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

/** Write bench/results/<time>.json and .md; resolves the .json's path. */
export function writeReport(root, report) {
	const outDir = path.join(root, 'bench/results');
	mkdirSync(outDir, { recursive: true });
	const outFile = path.join(outDir, `${report.when.replace(/[:.]/g, '-')}.json`);
	writeFileSync(outFile, JSON.stringify(report, null, 2));
	writeFileSync(outFile.replace(/\.json$/, '.md'), markdownTable(report));
	return outFile;
}

/**
 * The targets this run's cells can speak to, each PASS or FAIL: issue #11's for each way of
 * calling (they replace issue #5's throughput, p95 and CPU targets), and the memory and
 * small-download targets of issue #5 that it keeps.
 */
export function evaluateTargets(report) {
	const cell = (op, way, bytes, concurrency) =>
		report.cells.find(
			(c) => c.op === op && c.way === way && c.bytes === bytes && c.concurrency === concurrency
		);
	const targets = [];
	const add = (name, ok, detail) => targets.push({ name, ok, detail });
	const percentOf = (value, of) => `${Math.round((100 * value) / of)}%`;

	// The access key (the pages): the server runs no scrypt, so a cell should cost little
	// more than the floor's.
	for (const bytes of [KiB, MiB]) {
		for (const op of ['upload', 'download']) {
			const c = cell(op, 'access', bytes, 50);
			if (!c) continue;
			add(
				`access key: ${c.size} ${op} c=50: no errors, p95 ≤ 3 × the floor's p95`,
				c.errors === 0 && c.p95 <= 3 * c.floor.p95,
				`${c.errors} errors, p95 ${round(c.p95)} ms vs 3 × ${round(c.floor.p95)} ms`
			);
		}
	}
	const small = cell('download', 'access', KiB, 1);
	if (small) {
		add(
			'access key: server CPU per 1 KiB download ≤ 2 ms',
			small.cpuMs <= 2,
			`${round(small.cpuMs, 2)} ms (c=1)`
		);
	}
	const up10 = cell('upload', 'access', 10 * MiB, 10);
	if (up10) {
		add(
			'access key: 10 MiB upload c=10 throughput ≥ 50% of the raw-sink floor',
			up10.mbps >= 0.5 * up10.floor.mbps,
			`${round(up10.mbps)} vs ${round(up10.floor.mbps)} MB/s (${percentOf(up10.mbps, up10.floor.mbps)})`
		);
	}

	// The passphrase (curl, the seed's paths, the no-JavaScript forms): one scrypt per request
	// on the server, so the cores' scrypt rate is the ceiling.
	const scryptRate = (report.machine.cores * 1000) / report.scrypt.ms;
	for (const op of ['upload', 'download']) {
		const c = cell(op, 'passphrase', KiB, 50);
		if (!c) continue;
		add(
			`passphrase: 1 KiB ${op} c=50 ≥ 90% of the scrypt rate (cores × 1000 / scrypt ms)`,
			c.rps >= 0.9 * scryptRate,
			`${round(c.rps)} req/s vs ${report.machine.cores} × 1000 / ${report.scrypt.ms} = ${round(scryptRate)} (${percentOf(c.rps, scryptRate)})`
		);
		// The same against the rate measured with every core deriving at once: what the
		// machine really allows when scrypts share the memory bus.
		const measured = report.scrypt.parallelRate;
		if (measured) {
			add(
				`passphrase: 1 KiB ${op} c=50 ≥ 90% of the measured all-core scrypt rate`,
				c.rps >= 0.9 * measured,
				`${round(c.rps)} req/s vs ${measured} (${percentOf(c.rps, measured)})`
			);
		}
	}
	const u1 = cell('upload', 'passphrase', 10 * MiB, 1);
	if (u1) {
		const bound = u1.floor.cpuMs + 1.5 * report.floors.seal_plus_hash_10mib_ms;
		add(
			'passphrase: server CPU per 10 MiB upload − one scrypt ≤ floor server CPU + 1.5 × (seal + hash)',
			u1.cpuMs - report.scrypt.ms <= bound,
			`${round(u1.cpuMs)} − ${report.scrypt.ms} = ${round(u1.cpuMs - report.scrypt.ms)} ms vs ` +
				`${round(u1.floor.cpuMs)} + 1.5 × ${report.floors.seal_plus_hash_10mib_ms} = ${round(bound)} ms`
		);
	}
	// Kept from issue #5: a small download by passphrase costs its scrypt and little more.
	for (const [bytes, slackMs] of [
		[10 * MiB, 20],
		[KiB, 5]
	]) {
		const d1 = cell('download', 'passphrase', bytes, 1);
		if (d1)
			add(
				`passphrase: ${d1.size} download c=1 p50 ≤ scrypt + ${slackMs} ms`,
				d1.p50 <= report.scrypt.ms + slackMs,
				`${round(d1.p50)} ms vs ${report.scrypt.ms} + ${slackMs}`
			);
	}

	// Memory, either way (kept from issue #5).
	const u50 = report.cells.filter(
		(c) => c.op === 'upload' && c.bytes === 10 * MiB && c.concurrency === 50
	);
	if (u50.length > 0) {
		const peak = Math.max(...u50.map((c) => c.peakRss));
		add(
			'peak RSS during 50 concurrent 10 MiB uploads ≤ 250 MB',
			toMB(peak) <= 250,
			`${round(toMB(peak))} MB (${u50.map((c) => c.way).join(' and ')})`
		);
	}
	if (report.large) {
		for (const op of ['upload', 'download']) {
			const growth = toMB(report.large[`${op}_rss_growth_mib`]);
			add(`1 GiB ${op} grows RSS ≤ 64 MB`, growth <= 64, `+${round(growth)} MB`);
		}
	}
	return targets;
}
