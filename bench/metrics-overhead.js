// `npm run bench:metrics`: what the Prometheus metrics cost (issue #14). Two servers from
// build/ on one Redis, one without metrics and one with METRICS_PORT scraped every 2 s (a
// Prometheus default is 15 s: this is the pessimistic side), loaded in turns (off, on, off,
// on...) with the bench's 1 KiB cell at 50 clients, uploads then downloads. Reports the
// server CPU per request of each, as medians over the rounds, and their ratio.
//
//   npm run bench:metrics [-- --rounds N --requests M --ways W]
//   (default 3 rounds of 200, both ways: passphrase as curl calls, access key as the pages
//   do; build first). The access-key way is the one to read: without a scrypt per request
//   the metrics' share of the CPU is about 20 times larger.
//
// The machine is shared: read the ratio, and the spread of the rounds beside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../tests/helpers/processes.js';
import { KiB, requestsFor, WAYS } from './cli.js';
import { importScryptParams } from './floors.js';
import { ROOT } from '../tests/helpers/processes.js';
import { runLoad, startApp } from './processes.js';
import { median, round } from './report.js';

const { values } = parseArgs({
	options: {
		rounds: { type: 'string', default: '3' },
		requests: { type: 'string' },
		ways: { type: 'string', default: WAYS.join(',') }
	}
});
const ways = values.ways.split(',').filter((way) => WAYS.includes(way));
const scrypt = await importScryptParams(ROOT);
const rounds = Number(values.rounds);
const size = KiB;
const concurrency = 50;
// The bench's own count for this cell (200) unless told fewer: on a loaded machine each
// request costs a scrypt that may take a second.
const requests = Number(values.requests ?? requestsFor({ smoke: false }, size, concurrency));

const work = mkdtempSync(path.join(tmpdir(), 'raven-bench-metrics-'));
const redis = await startRedis();
const servers = {
	off: await startApp(redis.url, work, 'off'),
	on: await startApp(redis.url, work, 'on', { env: { METRICS_PORT: '0' } })
};
const { port } = await servers.on.waitForLine((line) => line.event === 'metrics_listening');
const scrapes = { count: 0, bytes: 0 };
const scraper = setInterval(() => {
	void fetch(`http://127.0.0.1:${port}/metrics`)
		.then((res) => res.text())
		.then((text) => {
			scrapes.count++;
			scrapes.bytes = text.length;
		});
}, 2000);

/** CPU ms per request of each run, by way, server and operation: cpu[way][server][op]. */
const cpu = Object.fromEntries(
	ways.map((way) => [way, { off: { upload: [], download: [] }, on: { upload: [], download: [] } }])
);
let errors = 0;
try {
	for (let round_ = 0; round_ < rounds; round_++) {
		// Alternate which goes first, so that a drift in the machine's load hits both alike.
		const order = round_ % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
		for (const [way, name] of ways.flatMap((way) => order.map((name) => [way, name]))) {
			const server = servers[name];
			const pid = server.process.pid;
			const spec = { size, concurrency, requests, way, scrypt };
			const up = await runLoad({ ...spec, op: 'upload', url: `${server.url}/upload/` }, pid);
			const down = await runLoad(
				{ ...spec, op: 'download', url: `${server.url}/download`, keys: up.keys },
				pid
			);
			errors += up.errors + down.errors;
			if (up.errors + down.errors > 0) {
				console.log(`  errors: statuses ${[...up.statuses, ...down.statuses].join(', ')}`);
			}
			cpu[way][name].upload.push(up.cpuPerRequestMs);
			cpu[way][name].download.push(down.cpuPerRequestMs);
			console.log(
				`round ${round_ + 1} ${way.padEnd(10)} metrics ${name.padEnd(3)}: upload ${round(up.cpuPerRequestMs, 2)} ms CPU/request, download ${round(down.cpuPerRequestMs, 2)}`
			);
		}
	}
} finally {
	clearInterval(scraper);
	await servers.on.stop();
	await servers.off.stop();
	await redis.stop();
	rmSync(work, { recursive: true, force: true });
}

for (const way of ways) {
	for (const op of ['upload', 'download']) {
		const runs = cpu[way];
		const off = median(runs.off[op]);
		const on = median(runs.on[op]);
		console.log(
			`${way.padEnd(10)} ${op.padEnd(8)} 1 KiB c=50: ${round(off, 2)} ms CPU/request without metrics, ${round(on, 2)} with (${round((on / off - 1) * 100, 1)} %; runs off ${runs.off[op].map((v) => round(v, 2)).join('/')}, on ${runs.on[op].map((v) => round(v, 2)).join('/')})`
		);
	}
}
console.log(
	`scrapes: ${scrapes.count} of ${round(scrapes.bytes / 1024, 1)} KiB; errors: ${errors}`
);
if (errors > 0) process.exit(1);
