/**
 * The built app (`node server/index.js`) in a child process on a free port, with its own
 * storage, temp and log folders, so each test file has a real HTTP server to talk to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NODE_FLAGS, SERVER_ENV } from '../../server/shared.js';

export type LogLine = Record<string, unknown> & { event?: string; request_id?: string };

export type TestServer = {
	url: string;
	dir: string;
	/** Every JSON line the server printed so far. */
	lines: LogLine[];
	/** Lines on stderr (start-up errors). */
	stderr: string[];
	/** Wait until a log line matches, or fail after `timeoutMs`. */
	waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
	/** SIGTERM and wait for the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
	process: ChildProcess;
};

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Start the built server; resolves once it listens. */
export async function startServer(
	env: Record<string, string> = {},
	options: { dir?: string; beforeStart?: (dir: string) => void } = {}
): Promise<TestServer> {
	const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'raven-zero-test-'));
	options.beforeStart?.(dir);
	const child = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'server/index.js')], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? '',
			// As `npm start` and the Dockerfile run it.
			...SERVER_ENV,
			PORT: '0',
			HOST: '127.0.0.1',
			STORAGE_PATH: path.join(dir, 'uploads'),
			TEMP_PATH: path.join(dir, 'temp'),
			LOG_PATH: path.join(dir, 'logs', 'raven_zero.log'),
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const lines: LogLine[] = [];
	const stderr: string[] = [];
	const waiters = new Set<() => void>();
	let buffer = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		buffer += chunk;
		const parts = buffer.split('\n');
		buffer = parts.pop() ?? '';
		for (const part of parts) {
			if (!part.trim()) continue;
			try {
				lines.push(JSON.parse(part) as LogLine);
			} catch {
				lines.push({ event: 'non_json', text: part });
			}
		}
		for (const wake of waiters) wake();
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr.push(chunk);
		for (const wake of waiters) wake();
	});

	const waitForLine = (match: (line: LogLine) => boolean, timeoutMs = 10_000) =>
		new Promise<LogLine>((resolve, reject) => {
			const check = () => {
				const found = lines.find(match);
				if (found) {
					cleanup();
					resolve(found);
				} else if (child.exitCode !== null) {
					cleanup();
					reject(new Error(`server exited (${child.exitCode}): ${stderr.join('')}`));
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

	const listening = await waitForLine((line) => line.event === 'listening');
	return {
		url: `http://127.0.0.1:${String(listening.port)}`,
		dir,
		lines,
		stderr,
		waitForLine,
		process: child,
		async stop(signal: NodeJS.Signals = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) {
				const exited = once(child, 'exit');
				child.kill(signal);
				await exited;
			}
			rmSync(dir, { recursive: true, force: true });
			return child.exitCode;
		}
	};
}

/** Run the server expecting it to refuse to start; resolves its exit code and output. */
export async function runServerExpectingFailure(env: Record<string, string>) {
	const child = spawn(process.execPath, [path.join(ROOT, 'server/index.js')], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	const [code] = (await once(child, 'exit')) as [number | null];
	clearTimeout(timer);
	return { code, stdout, stderr };
}
