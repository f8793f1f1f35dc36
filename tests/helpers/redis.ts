/**
 * A private redis-server for one test file: a free port, no persistence, stopped afterwards.
 * Tests never touch the machine's shared Redis on 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export type TestRedis = {
	port: number;
	url: string;
	/** Stop the server (SIGKILL-free: `shutdown nosave`), keeping the port for restart(). */
	stop(): Promise<void>;
	/** Start it again on the same port, empty. */
	restart(): Promise<void>;
	/** A plain client for inspecting keys; closed by stop(). */
	client(): Redis;
};

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
	const server = createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : 0;
	server.close();
	await once(server, 'close');
	return port;
}

async function waitForPing(port: number, deadlineMs = 5000): Promise<void> {
	const started = Date.now();
	for (;;) {
		const probe = new Redis({
			port,
			host: '127.0.0.1',
			lazyConnect: true,
			maxRetriesPerRequest: 0,
			retryStrategy: () => null
		});
		probe.on('error', () => {});
		try {
			await probe.connect();
			if ((await probe.ping()) === 'PONG') return;
		} catch {
			// not up yet
		} finally {
			probe.disconnect();
		}
		if (Date.now() - started > deadlineMs) throw new Error(`redis-server on ${port} did not start`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

export async function startRedis(): Promise<TestRedis> {
	const port = await freePort();
	let child: ChildProcess | undefined;
	let inspector: Redis | undefined;

	const launch = async () => {
		child = spawn(
			'redis-server',
			['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{
				stdio: 'ignore'
			}
		);
		await waitForPing(port);
	};
	const stop = async () => {
		inspector?.disconnect();
		inspector = undefined;
		if (!child || child.exitCode !== null) return;
		const exited = once(child, 'exit');
		child.kill('SIGTERM');
		await exited;
	};

	await launch();
	return {
		port,
		url: `redis://127.0.0.1:${port}/0`,
		stop,
		restart: launch,
		client: () => (inspector ??= new Redis({ port, host: '127.0.0.1' }))
	};
}
