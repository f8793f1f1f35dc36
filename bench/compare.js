// Two builds of the server under the same load in one run, to measure a change before and
// after it on a noisy machine: each round runs every cell against both servers back to back,
// alternating which goes first, and the medians over the rounds are compared.
//
//   node bench/compare.js --before DIR [--sizes 10MiB] [--clients 1,10] [--ways access]
//                         [--ops upload] [--rounds 5] [--storage s3]
//
// DIR is another checkout of the project with `npm run build` done there (for example
// `git worktree add /tmp/before main && cd /tmp/before && npm ci && npm run build`); "after" is
// this checkout's build/. Both servers share one redis-server. Reported per cell and server:
// the server's CPU per request (from /proc: what a busy neighbour inflates least), MB/s and
// p95, its peak RSS, and the change of each from before to after. With `--storage s3` both keep
// their files in one bucket of a Swift (S3 API) started for the run (tests/helpers/swift.js).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../tests/helpers/processes.js';
import { startSwift } from '../tests/helpers/swift.js';
import { label, parseSize, requestsFor, WAYS } from './cli.js';
import { importScryptParams } from './floors.js';
import { runLoad, startApp } from './processes.js';
import { median, percentile, round } from './report.js';
import { ROOT } from '../tests/helpers/processes.js';

const { values } = parseArgs({
	options: {
		before: { type: 'string' },
		sizes: { type: 'string', default: '10MiB' },
		clients: { type: 'string', default: '1,10' },
		ways: { type: 'string', default: 'access' },
		ops: { type: 'string', default: 'upload' },
		rounds: { type: 'string', default: '5' },
		storage: { type: 'string', default: 'fs' }
	}
});
if (!values.before) {
	console.error('bench/compare.js: --before DIR (a built checkout) is required');
	process.exit(2);
}
const sizes = values.sizes.split(',').map(parseSize);
const clients = values.clients.split(',').map(Number);
const ways = values.ways.split(',').filter((way) => WAYS.includes(way));
const ops = values.ops.split(',');
const rounds = Number(values.rounds);
const scrypt = await importScryptParams(ROOT);

const work = mkdtempSync(path.join(tmpdir(), 'raven-compare-'));
const redis = await startRedis();
const swift = values.storage === 's3' ? await startSwift() : undefined;
const env = swift ? swift.env(await swift.createBucket()) : {};
const servers = {
	before: await startApp(redis.url, work, 'before', { root: path.resolve(values.before), env }),
	after: await startApp(redis.url, work, 'after', { env })
};
try {
	console.log(
		'op       way        size    clients  server  CPU ms/req   MB/s   p95 ms  peak RSS MiB'
	);
	for (const size of sizes) {
		for (const concurrency of clients) {
			const requests = requestsFor({ smoke: false }, size, concurrency);
			for (const way of ways) {
				/** @type {Record<string, Record<string, object[]>>} */
				const runs = { before: { upload: [], download: [] }, after: { upload: [], download: [] } };
				for (let round = 0; round < rounds; round++) {
					const order = round % 2 ? ['after', 'before'] : ['before', 'after'];
					for (const name of order) {
						const server = servers[name];
						const spec = { way, size, concurrency, requests, scrypt };
						const pid = server.process.pid;
						const up = await runLoad({ ...spec, op: 'upload', url: `${server.url}/upload/` }, pid);
						runs[name].upload.push(up);
						if (!ops.includes('download')) continue;
						const url = `${server.url}${way === 'access' ? '/download/' : '/download'}`;
						runs[name].download.push(
							await runLoad({ ...spec, op: 'download', url, keys: up.keys }, pid)
						);
					}
				}
				for (const op of ops) {
					const figures = {};
					for (const name of ['before', 'after']) {
						const done = runs[name][op];
						figures[name] = {
							cpu: median(done.map((r) => r.cpuPerRequestMs)),
							mbps: median(done.map((r) => (requests * size) / 2 ** 20 / (r.wallMs / 1000))),
							p95: median(done.map((r) => percentile(r.latencies, 95))),
							rss: Math.max(...done.map((r) => r.peakRss)),
							errors: done.reduce((sum, r) => sum + r.errors, 0)
						};
						const f = figures[name];
						console.log(
							`${op.padEnd(8)} ${way.padEnd(10)} ${label(size).padEnd(7)} c=${String(concurrency).padEnd(6)} ${name.padEnd(7)} ` +
								`${String(round(f.cpu)).padStart(10)} ${String(round(f.mbps)).padStart(6)} ${String(Math.round(f.p95)).padStart(8)} ${String(Math.round(f.rss)).padStart(13)}` +
								(f.errors ? `  ${f.errors} errors` : '')
						);
					}
					const change = (key) =>
						`${Math.round((100 * (figures.after[key] - figures.before[key])) / figures.before[key])}%`;
					console.log(
						`${' '.repeat(44)}change: CPU ${change('cpu')}, MB/s ${change('mbps')}, p95 ${change('p95')}, peak RSS ${change('rss')}`
					);
				}
			}
		}
	}
} finally {
	await servers.before.stop();
	await servers.after.stop();
	await redis.stop();
	await swift?.stop();
	rmSync(work, { recursive: true, force: true });
}
