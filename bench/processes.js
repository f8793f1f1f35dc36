// The bench's processes: our server from build/ and the floor server, started through the
// helper the tests use (tests/helpers/processes.js), and one load-generator process per
// measured run, with the measured server's CPU and peak RSS taken from /proc around it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import {
	cpuMs,
	ROOT,
	sampleRss,
	spawnJsonLines,
	startServer,
	stopProcess
} from '../tests/helpers/processes.js';
import { GiB, MiB } from './cli.js';

/**
 * Our server from build/ (of `root`, this checkout unless given), on the bench's Redis, with
 * the memory settings of `npm start` (as startServer always starts it), this process's
 * environment and `env` on top. Its folders are `<work>/<name>/`, so that each server's are
 * apart; stop() removes them.
 * @param {string} redisUrl
 * @param {string} work
 * @param {string} name
 * @param {{ root?: string, env?: Record<string, string> }} [options]
 */
export function startApp(redisUrl, work, name, { root = ROOT, env = {} } = {}) {
	return startServer(
		{
			REDIS_URL: redisUrl,
			MAX_FILE_SIZE: String(GiB + MiB),
			UPLOAD_RATE_LIMIT: '1000000/hour',
			LOOKUP_RATE_LIMIT: '1000000/hour',
			HEALTH_RATE_LIMIT: '1000/second',
			MIN_FREE_DISK_MB: '0',
			// The bench measures throughput, not the quotas: nothing it stores may be refused.
			STORAGE_QUOTA: 'Infinity',
			MAX_LIVE_DROPS: '100000000',
			UPLOAD_BYTE_LIMIT: '1000000G/hour',
			// Every request is measured to its answer: at 50 passphrase clients the scrypt queue
			// alone is about 1.5 s, where the default KDF_MAX_WAIT_MS and KDF_QUEUE_LIMIT would shed (the
			// abuse scenario, tests/resilience/abuse.test.ts, measures that).
			KDF_MAX_WAIT_MS: '30000',
			KDF_QUEUE_LIMIT: '10000',
			...env
		},
		// A loaded machine can take well over 10 s to start a server.
		{ dir: path.join(work, name), inheritEnv: true, root, readyTimeoutMs: 60_000 }
	);
}

/**
 * bench/floor-server.js, holding a stored file of each size for the download floor; on the
 * bucket that `s3Env` names (the server's S3 settings) when given, else in `<work>/floor`.
 */
export async function startFloor(work, sizes, s3Env) {
	const floor = spawnJsonLines(
		process.execPath,
		['bench/floor-server.js', path.join(work, 'floor'), sizes.join(',')],
		{
			env: { ...process.env, ...(s3Env ? { ...s3Env, FLOOR_STORAGE: 's3' } : {}) },
			name: 'floor server'
		}
	);
	const { port } = await floor.waitForLine((line) => typeof line.port === 'number', 20_000);
	return {
		url: `http://127.0.0.1:${port}`,
		pid: floor.process.pid,
		stop: () => stopProcess(floor.process)
	};
}

/**
 * One run of one cell in the load process (bench/load.js), with the CPU and peak RSS of the
 * server it loads (`serverPid`) around it.
 */
export async function runLoad(spec, serverPid) {
	const cpuBefore = cpuMs(serverPid);
	const rss = sampleRss(serverPid, 25);
	const child = spawn(process.execPath, [path.join(ROOT, 'bench/load.js'), JSON.stringify(spec)], {
		stdio: ['ignore', 'pipe', 'inherit']
	});
	let out = '';
	child.stdout.on('data', (part) => (out += part));
	await once(child, 'exit');
	const peakRss = rss.stop();
	const result = JSON.parse(out);
	const cpu = cpuMs(serverPid) - cpuBefore;
	return { ...result, peakRss, cpuPerRequestMs: cpu / spec.requests };
}
