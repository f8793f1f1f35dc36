/**
 * What the resilience tests share: a redis-server that can keep its data across a restart
 * (or lose it), uploads that arrive slowly, process figures from /proc, and small waits.
 * Everything listens on 127.0.0.0/8 and is stopped by the test file that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { multipart, replyTo, type Reply } from '../helpers/http';
import { freePort } from '../helpers/redis';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Poll `check` every `everyMs` until it returns a truthy value (resolved); fail after `limitMs`. */
export async function waitFor<T>(
	check: () => T | Promise<T>,
	limitMs: number,
	what: string,
	everyMs = 50
): Promise<Truthy<T>> {
	const started = Date.now();
	for (;;) {
		const value = await check();
		if (value) return value as Truthy<T>;
		if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
		await sleep(everyMs);
	}
}

/** File names in a folder (none when it does not exist). */
export function filesIn(dir: string): string[] {
	try {
		return readdirSync(dir).sort();
	} catch {
		return [];
	}
}

/** Resident memory (MiB) and open file descriptors of a process, from /proc. */
export function processFigures(pid: number): { rssMiB: number; fds: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
	return {
		rssMiB: Math.round((rssKiB / 1024) * 10) / 10,
		fds: readdirSync(`/proc/${pid}/fd`).length
	};
}

/** Sample a process's RSS every `everyMs` until stopped; resolves the peak in MiB. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
	let peak = processFigures(pid).rssMiB;
	const timer = setInterval(() => {
		try {
			peak = Math.max(peak, processFigures(pid).rssMiB);
		} catch {
			// the process is gone; the test will say so
		}
	}, everyMs);
	return {
		stop() {
			clearInterval(timer);
			return peak;
		}
	};
}

// ------------------------------------------------------------------------------ passphrases

const WORDS = readFileSync(path.join(ROOT, 'data/diceware_words.txt'), 'utf8')
	.split('\n')
	.map((line) => line.split('\t')[1]?.trim() ?? '')
	.filter((word) => /^[a-z]+$/.test(word));

/** A well-formed passphrase that (almost surely) names no drop: a failed lookup, not a 400. */
export function unknownPassphrase(words = 4): string {
	return Array.from({ length: words }, () => WORDS[randomInt(WORDS.length)]).join('-');
}

export function randomWord(): string {
	return WORDS[randomInt(WORDS.length)]!;
}

// ------------------------------------------------------------------------------ slow upload

export type SlowUpload = {
	/** Resolves once the first part of the body has been handed to the socket. */
	started: Promise<void>;
	/** Send the rest of the body; the reply resolves afterwards. */
	finish(): void;
	/** Break the connection off. */
	abort(): void;
	/** The answer, or status 0 with `error` when the connection broke first. */
	reply: Promise<Reply>;
};

/**
 * A multipart upload of `data` sent in two halves: the first at once, the rest when
 * `finish()` is called, so the test can act while the server is mid-stream.
 */
export function slowUpload(
	baseUrl: string,
	data: Buffer,
	options: { fields?: Record<string, string>; from?: string; firstBytes?: number } = {}
): SlowUpload {
	const { body, contentType } = multipart([
		...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, data: value })),
		{ name: 'file', filename: 'slow.bin', data }
	]);
	const split = options.firstBytes ?? Math.floor(body.length / 2);
	let resolveStarted!: () => void;
	const started = new Promise<void>((resolve) => (resolveStarted = resolve));
	let req!: http.ClientRequest;
	const reply = new Promise<Reply>((resolve) => {
		req = http.request(`${baseUrl}/upload/`, {
			method: 'POST',
			agent: false,
			localAddress: options.from,
			headers: { 'content-type': contentType, 'content-length': String(body.length) }
		});
		void replyTo(req).then(resolve);
		req.flushHeaders();
		req.write(body.subarray(0, split), () => resolveStarted());
	});
	return {
		started,
		reply,
		finish: () => {
			if (!req.destroyed) req.end(body.subarray(split));
		},
		abort: () => req.destroy()
	};
}

export function randomData(bytes: number): Buffer {
	return randomBytes(bytes);
}

// ------------------------------------------------------------------------------------ redis

export type DurableRedis = {
	port: number;
	url: string;
	/** Stop it; with `keepData` it writes its data out first (SHUTDOWN SAVE), else loses it. */
	stop(options?: { keepData?: boolean }): Promise<void>;
	/** Start it again on the same port, with whatever the last stop kept. */
	start(): Promise<void>;
	/** A client for looking at keys (no key prefix); closed by stop(). */
	client(): Redis;
	/** SIGSTOP / SIGCONT: a Redis that hangs, keeping its connections open, then wakes. */
	freeze(): void;
	thaw(): void;
	/** Stop it for good and remove its folder. */
	dispose(): Promise<void>;
};

async function waitForPing(port: number, limitMs = 5000): Promise<void> {
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
 * A private redis-server on a free port whose data can survive a restart: it snapshots only
 * when told to on stop (SHUTDOWN SAVE) and loads the snapshot when started again. Never the
 * machine's shared Redis on 6379.
 */
export async function startDurableRedis(): Promise<DurableRedis> {
	const port = await freePort();
	const dir = mkdtempSync(path.join(tmpdir(), 'raven-zero-redis-'));
	let child: ChildProcess | undefined;
	let inspector: Redis | undefined;

	const start = async () => {
		child = spawn(
			'redis-server',
			[
				'--port',
				String(port),
				'--bind',
				'127.0.0.1',
				'--dir',
				dir,
				'--dbfilename',
				'dump.rdb',
				'--save',
				'',
				'--appendonly',
				'no'
			],
			{ stdio: 'ignore' }
		);
		await waitForPing(port);
	};
	const stop = async ({ keepData = false } = {}) => {
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
			rmSync(path.join(dir, 'dump.rdb'), { force: true });
			running.kill('SIGCONT');
			running.kill('SIGKILL');
		}
		await exited;
	};

	await start();
	return {
		port,
		url: `redis://127.0.0.1:${port}/0`,
		stop,
		start,
		client: () => (inspector ??= new Redis({ port, host: '127.0.0.1' })),
		freeze: () => child?.kill('SIGSTOP'),
		thaw: () => child?.kill('SIGCONT'),
		async dispose() {
			await stop();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}
