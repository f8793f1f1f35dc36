// @ts-check
/**
 * The processes tests and the benchmark start: a private redis-server, the built server
 * (`node server/index.js`) and any child that prints JSON lines, plus free ports, /proc
 * figures and waits. One module for both, so there is one way to start each thing.
 *
 * Plain JavaScript with JSDoc types: `node bench/run.js` imports it without a build step, and
 * the TypeScript tests get its types (tsconfig: allowJs + checkJs, so svelte-check checks it).
 * Everything listens on 127.0.0.1 and never on the machine's shared Redis (6379).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { NODE_FLAGS, SERVER_ENV } from '../../server/shared.js';

/** The repository root: the built server runs from here. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

// ------------------------------------------------------------------------------------ waits

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @template T
 * @typedef {Exclude<T, false | 0 | '' | null | undefined>} Truthy
 */

/**
 * Poll `check` every `everyMs` until it returns a truthy value (resolved); fail after `limitMs`.
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {number} limitMs
 * @param {string} what named in the error
 * @param {number} [everyMs]
 * @returns {Promise<Truthy<T>>}
 */
export async function waitFor(check, limitMs, what, everyMs = 50) {
	const started = Date.now();
	for (;;) {
		const value = await check();
		if (value) return /** @type {Truthy<T>} */ (value);
		if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
		await sleep(everyMs);
	}
}

/**
 * A port nobody listens on right now (the OS picks it; closed again before this resolves).
 * @returns {Promise<number>}
 */
export async function freePort() {
	const server = createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : 0;
	server.close();
	await once(server, 'close');
	return port;
}

/**
 * Signal a child and wait for its exit (at once when it has already exited).
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 */
export async function stopProcess(child, signal = 'SIGTERM') {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = once(child, 'exit');
	child.kill(signal);
	await exited;
}

// ------------------------------------------------------------------------------ /proc figures

/**
 * Resident memory of a process in MiB (one decimal), from /proc.
 * @param {number} pid
 */
export function rssMiB(pid) {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
	return Math.round((rssKiB / 1024) * 10) / 10;
}

/**
 * Resident memory (MiB, one decimal) and open file descriptors of a process, from /proc.
 * @param {number} pid
 * @returns {{ rssMiB: number, fds: number }}
 */
export function processFigures(pid) {
	return { rssMiB: rssMiB(pid), fds: readdirSync(`/proc/${pid}/fd`).length };
}

/**
 * Sample a process's RSS every `everyMs` until stopped; `stop()` returns the peak in MiB.
 * @param {number} pid
 * @param {number} [everyMs]
 * @returns {{ stop(): number }}
 */
export function sampleRss(pid, everyMs = 100) {
	let peak = rssMiB(pid);
	const timer = setInterval(() => {
		try {
			peak = Math.max(peak, rssMiB(pid));
		} catch {
			// the process is gone; whoever sampled it will say so
		}
	}, everyMs);
	return {
		stop() {
			clearInterval(timer);
			return peak;
		}
	};
}

/**
 * CPU time (user + system) a process has used so far, in ms: /proc/<pid>/stat counts clock
 * ticks, which are 100 a second on Linux.
 * @param {number} pid
 */
export function cpuMs(pid) {
	const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
	return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ------------------------------------------------------------------------------------ redis

/**
 * @typedef {object} TestRedis
 * @property {number} port
 * @property {string} url
 * @property {() => Promise<void>} start Start it again on the same port, with whatever the
 *   last stop kept (nothing, unless it was `stop({ keepData: true })`).
 * @property {(options?: { keepData?: boolean }) => Promise<void>} stop Stop it. By default its
 *   data is lost (SIGTERM: with no save points it writes nothing on the way out). With
 *   `keepData` (a `durable` Redis only) it writes its data out first (SHUTDOWN SAVE), and
 *   the next start loads it.
 * @property {() => Redis} client A client for looking at keys (no key prefix); closed by stop().
 * @property {() => void} freeze SIGSTOP: a Redis that hangs, keeping its connections open.
 * @property {() => void} thaw SIGCONT: it wakes.
 * @property {() => Promise<void>} dispose Stop it for good and remove its data folder.
 */

/** @param {number} port */
async function waitForPing(port, limitMs = 5000) {
	await waitFor(
		async () => {
			const probe = new Redis({
				port,
				host: '127.0.0.1',
				lazyConnect: true,
				maxRetriesPerRequest: 0,
				retryStrategy: () => null
			});
			probe.on('error', () => undefined);
			try {
				await probe.connect();
				return (await probe.ping()) === 'PONG';
			} catch {
				return false;
			} finally {
				probe.disconnect();
			}
		},
		limitMs,
		`redis-server on ${port}`
	);
}

/**
 * A private redis-server on a free port, without persistence; resolves once it answers PING.
 * `durable: true` gives it a data folder of its own, so that `stop({ keepData: true })` and
 * `start()` bring its data back, as a Redis restarted by its operator would.
 * @param {{ durable?: boolean }} [options]
 * @returns {Promise<TestRedis>}
 */
export async function startRedis({ durable = false } = {}) {
	const port = await freePort();
	const dir = durable ? mkdtempSync(path.join(tmpdir(), 'raven-zero-redis-')) : undefined;
	/** @type {import('node:child_process').ChildProcess | undefined} */
	let child;
	/** @type {Redis | undefined} */
	let inspector;

	const start = async () => {
		const args = ['--port', String(port), '--bind', '127.0.0.1'];
		if (dir) args.push('--dir', dir, '--dbfilename', 'dump.rdb');
		// No snapshots and no append-only file: only SHUTDOWN SAVE writes anything.
		args.push('--save', '', '--appendonly', 'no');
		child = spawn('redis-server', args, { stdio: 'ignore' });
		await waitForPing(port);
	};
	/** @param {{ keepData?: boolean }} [options] */
	const stop = async ({ keepData = false } = {}) => {
		if (keepData && !dir) throw new Error('stop({ keepData }) needs startRedis({ durable: true })');
		inspector?.disconnect();
		inspector = undefined;
		const running = child;
		if (!running || running.exitCode !== null || running.signalCode !== null) return;
		const exited = once(running, 'exit');
		if (keepData) {
			const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
			admin.on('error', () => undefined);
			// The server closes the connection as it exits, so the reply is an error.
			await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined);
			admin.disconnect();
		} else {
			// What an earlier stop({ keepData }) kept must not come back on the next start.
			if (dir) rmSync(path.join(dir, 'dump.rdb'), { force: true });
			// A frozen Redis (freeze()) only acts on SIGTERM once it runs again.
			running.kill('SIGCONT');
			running.kill('SIGTERM');
		}
		await exited;
	};

	await start();
	return {
		port,
		url: `redis://127.0.0.1:${port}/0`,
		start,
		stop,
		client: () => (inspector ??= new Redis({ port, host: '127.0.0.1' })),
		freeze: () => void child?.kill('SIGSTOP'),
		thaw: () => void child?.kill('SIGCONT'),
		async dispose() {
			await stop();
			if (dir) rmSync(dir, { recursive: true, force: true });
		}
	};
}

// ----------------------------------------------------------------------- JSON-line children

/** @typedef {Record<string, unknown> & { event?: string, request_id?: string }} LogLine */

/**
 * @typedef {object} JsonProcess
 * @property {import('node:child_process').ChildProcess} process
 * @property {LogLine[]} lines Every JSON line it printed so far (others as `event: 'non_json'`).
 * @property {string[]} stderr What it wrote to stderr (start-up errors).
 * @property {(match: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>} waitForLine
 *   The first line that matches, waiting for it; fails after `timeoutMs` or when it exits.
 */

/**
 * Spawn a child whose stdout is JSON lines (the server's log, the floor server's port) and
 * collect them.
 * @param {string} command
 * @param {string[]} args
 * @param {{ env: NodeJS.ProcessEnv, cwd?: string, name?: string }} options `name` is what
 *   errors call it
 * @returns {JsonProcess}
 */
export function spawnJsonLines(command, args, { env, cwd = ROOT, name = 'server' }) {
	const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
	/** @type {LogLine[]} */
	const lines = [];
	/** @type {string[]} */
	const stderr = [];
	/** @type {Set<() => void>} */
	const waiters = new Set();
	let buffer = '';
	child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
		buffer += chunk;
		const parts = buffer.split('\n');
		buffer = parts.pop() ?? '';
		for (const part of parts) {
			if (!part.trim()) continue;
			try {
				lines.push(/** @type {LogLine} */ (JSON.parse(part)));
			} catch {
				lines.push({ event: 'non_json', text: part });
			}
		}
		for (const wake of waiters) wake();
	});
	child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
		stderr.push(chunk);
		for (const wake of waiters) wake();
	});

	/**
	 * @param {(line: LogLine) => boolean} match
	 * @returns {Promise<LogLine>}
	 */
	const waitForLine = (match, timeoutMs = 10_000) =>
		new Promise((resolve, reject) => {
			const check = () => {
				const found = lines.find(match);
				if (found) {
					cleanup();
					resolve(found);
				} else if (child.exitCode !== null) {
					cleanup();
					reject(new Error(`${name} exited (${child.exitCode}): ${stderr.join('')}`));
				}
			};
			const timer = setTimeout(() => {
				cleanup();
				reject(
					new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}`)
				);
			}, timeoutMs);
			const onExit = () => check();
			const cleanup = () => {
				clearTimeout(timer);
				waiters.delete(check);
				child.off('exit', onExit);
			};
			waiters.add(check);
			child.on('exit', onExit);
			check();
		});

	return { process: child, lines, stderr, waitForLine };
}

// ------------------------------------------------------------------------------ the server

/**
 * @typedef {JsonProcess & {
 *   url: string,
 *   dir: string,
 *   stop(signal?: NodeJS.Signals): Promise<number | null>
 * }} TestServer
 *   `dir` holds its uploads/, temp/ and logs/; `stop()` signals it (SIGTERM unless told),
 *   waits for the exit, removes `dir` and resolves the exit code.
 */

/**
 * @typedef {object} ServerOptions
 * @property {string} [dir] its folder (a fresh temporary one unless given)
 * @property {(dir: string) => void} [beforeStart] runs once the folder is chosen
 * @property {boolean} [inheritEnv] start from this process's environment instead of PATH
 *   alone (the bench, so that UV_THREADPOOL_SIZE and the like reach the server)
 * @property {string} [root] the checkout whose built server runs (ROOT unless given: the
 *   bench's comparison of two builds)
 * @property {number} [readyTimeoutMs] how long it may take to listen (30 s unless told)
 */

/**
 * The built app on a free port of 127.0.0.1, started as `npm start` and the Dockerfile start
 * it, with its own storage, temp and log folders; resolves once it listens.
 * @param {Record<string, string>} [env] on top of the defaults
 * @param {ServerOptions} [options]
 * @returns {Promise<TestServer>}
 */
export async function startServer(env = {}, options = {}) {
	const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'raven-zero-test-'));
	options.beforeStart?.(dir);
	// Another checkout (bench/compare.js) runs with its own flags and variables, so that a
	// change to them is measured too.
	const { NODE_FLAGS: flags, SERVER_ENV: serverEnv } = options.root
		? /** @type {typeof import('../../server/shared.js')} */ (
				await import(path.join(options.root, 'server/shared.js'))
			)
		: { NODE_FLAGS, SERVER_ENV };
	const child = spawnJsonLines(
		process.execPath,
		[...flags, path.join(options.root ?? ROOT, 'server/index.js')],
		{
			cwd: options.root ?? ROOT,
			env: {
				...(options.inheritEnv ? process.env : { PATH: process.env.PATH ?? '' }),
				// As `npm start` and the Dockerfile run it.
				...serverEnv,
				PORT: '0',
				HOST: '127.0.0.1',
				STORAGE_PATH: path.join(dir, 'uploads'),
				TEMP_PATH: path.join(dir, 'temp'),
				LOG_PATH: path.join(dir, 'logs', 'raven_zero.log'),
				// Tests assert the exact outcome of bursts of passphrase requests on a loaded
				// two-core machine, where the scrypt queue's bounds (100 waiting, 1.5 s) would
				// shed some at random. They are tested where they are the subject
				// (tests/unit/crypto.test.ts, hostile-clients.test.ts, and
				// tests/resilience/abuse.test.ts with the defaults).
				KDF_MAX_WAIT_MS: '30000',
				KDF_QUEUE_LIMIT: '10000',
				...env
			}
		}
	);
	// Generous: on a loaded two-core machine the first start (imports, word list, Redis) has
	// taken over 10 s; a server that cannot start still fails, with its stderr.
	const listening = await child
		.waitForLine((line) => line.event === 'listening', options.readyTimeoutMs ?? 30_000)
		.catch(async (/** @type {unknown} */ error) => {
			// Never leave a server that was slow to start running behind the failure.
			await stopProcess(child.process, 'SIGKILL');
			rmSync(dir, { recursive: true, force: true });
			throw error;
		});
	return {
		...child,
		url: `http://127.0.0.1:${String(listening.port)}`,
		dir,
		async stop(signal = 'SIGTERM') {
			await stopProcess(child.process, signal);
			rmSync(dir, { recursive: true, force: true });
			return child.process.exitCode;
		}
	};
}

/**
 * Run the server expecting it to refuse to start; resolves its exit code and output.
 * @param {Record<string, string>} env
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export async function runServerExpectingFailure(env) {
	const child = spawn(process.execPath, [path.join(ROOT, 'server/index.js')], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (stderr += chunk));
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	const [code] = /** @type {[number | null]} */ (await once(child, 'exit'));
	clearTimeout(timer);
	return { code, stdout, stderr };
}
