// @ts-check
/**
 * The two distributed Redis topologies, started by the tests from Debian's redis-server on
 * free ports of 127.0.0.1, each node in a temporary folder of its own, all stopped (and the
 * folders removed) by `stop()`:
 *
 * - `startSentinelRedis`: a primary, one replica, and three sentinels (quorum 2) that monitor
 *   them; `failover()` asks the sentinels to promote the replica, as an operator or a dying
 *   primary would make them.
 * - `startRedisCluster`: three masters sharing the 16,384 slots (`redis-cli --cluster create`),
 *   without replicas or with one each; `failover(master)` has a replica take over as an
 *   operator would (`CLUSTER FAILOVER`), `killMaster(master)` as a dead master makes it.
 *
 * Both take a password (`requirepass` on every data node) so that the tests exercise
 * REDIS_PASSWORD; the sentinels themselves have none, as the README's layout says.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, stopProcess, waitFor } from './processes.js';

/** @typedef {{ host: string, port: number }} HostPort */
/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

const HOST = '127.0.0.1';

/** @param {HostPort[]} nodes */
const hostPorts = (nodes) => nodes.map(({ host, port }) => `${host}:${port}`).join(',');

/**
 * One command to one node, on a connection of its own (no key prefix, no retries).
 * @param {number} port
 * @param {string | undefined} password
 * @param {string[]} command
 * @returns {Promise<unknown>}
 */
export async function ask(port, password, command) {
	const client = new Redis({
		port,
		host: HOST,
		password,
		lazyConnect: true,
		maxRetriesPerRequest: 0,
		retryStrategy: () => null,
		connectTimeout: 2000,
		commandTimeout: 2000
	});
	client.on('error', () => undefined);
	try {
		await client.connect();
		const [name = '', ...args] = command;
		return await client.call(name, ...args);
	} finally {
		client.disconnect();
	}
}

/**
 * Poll `ask` until `check` accepts its reply.
 * @param {number} port
 * @param {string | undefined} password
 * @param {string[]} command
 * @param {(reply: unknown) => boolean} check
 * @param {string} what
 * @param {number} [limitMs]
 */
async function waitForReply(port, password, command, check, what, limitMs = 20_000) {
	await waitFor(
		async () => {
			try {
				return check(await ask(port, password, command));
			} catch {
				return false;
			}
		},
		limitMs,
		what,
		100
	);
}

/**
 * A redis-server (or a sentinel, with `--sentinel` in `args`) in `dir`.
 * @param {string[]} args
 * @param {string} dir
 * @returns {ChildProcess}
 */
function spawnRedis(args, dir) {
	mkdirSync(dir, { recursive: true });
	return spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
}

/** Options every data node gets: loopback, no persistence. */
const dataNodeArgs = (/** @type {number} */ port, /** @type {string} */ dir) => [
	'--port',
	String(port),
	'--bind',
	HOST,
	'--dir',
	dir,
	'--save',
	'',
	'--appendonly',
	'no'
];

/** @param {string | undefined} password */
const authArgs = (password) =>
	password ? ['--requirepass', password, '--masterauth', password] : [];

/**
 * @typedef {object} SentinelRedis
 * @property {string} name the master group name
 * @property {HostPort[]} sentinels
 * @property {string | undefined} password
 * @property {Record<string, string>} env REDIS_SENTINELS, REDIS_SENTINEL_NAME (and REDIS_PASSWORD)
 * @property {() => Promise<HostPort>} primary the primary the sentinels name now
 * @property {() => Promise<HostPort>} failover have the sentinels promote the replica;
 *   resolves the new primary once every sentinel names it and it accepts writes
 * @property {(port: number) => ChildProcess | undefined} processOf the data node on `port`
 * @property {() => Promise<void>} stop
 */

/**
 * A sentinel-managed primary: primary + one replica + three sentinels (quorum 2), resolved
 * once the sentinels see the replica and each other (a failover needs both).
 * @param {{ password?: string, name?: string, failoverTimeoutMs?: number, downAfterMs?: number }} [options]
 *   `failoverTimeoutMs`: the sentinels' failover-timeout. After a failed election (the
 *   sentinels split their votes, which a loaded machine makes likelier) they try again only
 *   after twice this, and they refuse a second failover of one primary within it as well: a
 *   test that kills a primary wants it short.
 * @returns {Promise<SentinelRedis>}
 */
export async function startSentinelRedis({
	password,
	name = 'rz-primary',
	failoverTimeoutMs = 10_000,
	downAfterMs = 1000
} = {}) {
	const root = mkdtempSync(path.join(tmpdir(), 'raven-zero-sentinel-'));
	/** @type {Map<number, ChildProcess>} */
	const dataNodes = new Map();
	/** @type {ChildProcess[]} */
	const sentinelProcesses = [];
	/** @type {HostPort[]} */
	const sentinels = [];
	const stop = async () => {
		await Promise.all(
			[...sentinelProcesses, ...dataNodes.values()].map((child) => stopProcess(child, 'SIGKILL'))
		);
		rmSync(root, { recursive: true, force: true });
	};
	try {
		const primaryPort = await freePort();
		const replicaPort = await freePort();
		for (const port of [primaryPort, replicaPort]) {
			const dir = path.join(root, `node-${port}`);
			const args = [...dataNodeArgs(port, dir), ...authArgs(password)];
			if (port === replicaPort) args.push('--replicaof', HOST, String(primaryPort));
			dataNodes.set(port, spawnRedis(args, dir));
		}
		await waitForReply(
			replicaPort,
			password,
			['INFO', 'replication'],
			(reply) => String(reply).includes('master_link_status:up'),
			'the replica in sync'
		);
		for (let i = 0; i < 3; i++) {
			const port = await freePort();
			const dir = path.join(root, `sentinel-${port}`);
			mkdirSync(dir, { recursive: true });
			const config = path.join(dir, 'sentinel.conf');
			// Short timings so a test's failover takes seconds: down after 1 s of silence (or
			// `downAfterMs`: a test of a hung node that the sentinels have not yet marked down).
			const lines = [
				`port ${port}`,
				`bind ${HOST}`,
				`dir ${dir}`,
				`sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
				`sentinel down-after-milliseconds ${name} ${downAfterMs}`,
				`sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
				`sentinel parallel-syncs ${name} 1`
			];
			if (password) lines.push(`sentinel auth-pass ${name} ${password}`);
			writeFileSync(config, `${lines.join('\n')}\n`);
			sentinelProcesses.push(spawnRedis([config, '--sentinel'], dir));
			sentinels.push({ host: HOST, port });
		}
		for (const { port } of sentinels) {
			await waitForReply(
				port,
				undefined,
				['SENTINEL', 'MASTER', name],
				(reply) => {
					const fields = fieldsOf(reply);
					return fields['num-slaves'] === '1' && fields['num-other-sentinels'] === '2';
				},
				`sentinel ${port} sees the replica and the other sentinels`,
				30_000
			);
		}
	} catch (error) {
		await stop();
		throw error;
	}

	const primary = async () => {
		const reply = /** @type {string[]} */ (
			await ask(sentinels[0]?.port ?? 0, undefined, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name])
		);
		return { host: reply[0] ?? HOST, port: Number(reply[1]) };
	};

	return {
		name,
		sentinels,
		password,
		env: {
			REDIS_SENTINELS: hostPorts(sentinels),
			REDIS_SENTINEL_NAME: name,
			...(password ? { REDIS_PASSWORD: password } : {})
		},
		primary,
		async failover() {
			const before = await primary();
			await ask(sentinels[0]?.port ?? 0, undefined, ['SENTINEL', 'FAILOVER', name]);
			/** @type {HostPort | undefined} */
			let after;
			for (const { port } of sentinels) {
				await waitForReply(
					port,
					undefined,
					['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name],
					(reply) => Array.isArray(reply) && Number(reply[1]) !== before.port,
					`sentinel ${port} names a new primary`
				);
			}
			after = await primary();
			await waitForReply(
				after.port,
				password,
				['ROLE'],
				(reply) => Array.isArray(reply) && reply[0] === 'master',
				'the new primary takes writes'
			);
			return after;
		},
		processOf: (port) => dataNodes.get(port),
		stop
	};
}

/**
 * SENTINEL MASTER's flat [key, value, ...] reply as an object.
 * @param {unknown} reply
 * @returns {Record<string, string>}
 */
function fieldsOf(reply) {
	/** @type {Record<string, string>} */
	const fields = {};
	if (!Array.isArray(reply)) return fields;
	for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
	return fields;
}

/**
 * @typedef {object} TestCluster
 * @property {HostPort[]} nodes every data node: the masters, then their replicas
 * @property {string | undefined} password
 * @property {Record<string, string>} env REDIS_CLUSTER_NODES (and REDIS_PASSWORD)
 * @property {(key: string) => Promise<HostPort>} masterOf the master serving `key`'s slot now
 *   (the key as Redis sees it, with the app's `rz:` prefix)
 * @property {(master: HostPort) => Promise<HostPort>} failover a planned failover: `CLUSTER
 *   FAILOVER` sent to `master`'s replica (which first lets the master's writes reach it);
 *   resolves the replica once it is master and the cluster says `ok` again
 * @property {(master: HostPort) => Promise<HostPort>} killMaster `master` SIGKILLed; resolves
 *   its replica once the other masters have voted it master and the cluster says `ok` again
 * @property {(port: number) => ChildProcess | undefined} processOf the data node on `port`
 * @property {() => Promise<void>} stop
 */

/**
 * One line of CLUSTER NODES: `<id> <host:port@bus> <flags> <master id|-> <ping> <pong> <epoch>
 * <link> <slot ranges...>`.
 * @typedef {{ id: string, port: number, flags: string[], masterId: string,
 *   slots: [number, number][] }} ClusterNode
 */

/**
 * @param {unknown} reply CLUSTER NODES' text
 * @returns {ClusterNode[]}
 */
function clusterNodesOf(reply) {
	return String(reply)
		.split('\n')
		.filter((line) => line.trim() !== '')
		.map((line) => {
			const [id = '', address = '', flags = '', masterId = '', , , , , ...slots] = line.split(' ');
			return {
				id,
				port: Number(address.split('@')[0]?.split(':').pop()),
				flags: flags.split(','),
				masterId,
				slots: slots
					.filter((range) => !range.startsWith('['))
					.map((range) => {
						const [from = '0', to = from] = range.split('-');
						return /** @type {[number, number]} */ ([Number(from), Number(to)]);
					})
			};
		});
}

/**
 * A Redis Cluster of three masters, resolved once every node says `cluster_state:ok` (and,
 * with replicas, every replica is in sync with its master).
 * @param {{ password?: string, replicas?: 0 | 1, nodeTimeoutMs?: number }} [options]
 *   `replicas`: one replica per master (six nodes), for the failover tests; without, three
 *   masters alone. `nodeTimeoutMs`: `cluster-node-timeout`, after which a silent master is
 *   suspected (a killed master's replica takes over about 1-2 s after that).
 * @returns {Promise<TestCluster>}
 */
export async function startRedisCluster({ password, replicas = 0, nodeTimeoutMs = 2000 } = {}) {
	const root = mkdtempSync(path.join(tmpdir(), 'raven-zero-cluster-'));
	/** @type {Map<number, ChildProcess>} */
	const children = new Map();
	/** @type {HostPort[]} */
	const nodes = [];
	const stop = async () => {
		await Promise.all([...children.values()].map((child) => stopProcess(child, 'SIGKILL')));
		rmSync(root, { recursive: true, force: true });
	};
	const alive = () =>
		nodes.filter(({ port }) => {
			const child = children.get(port);
			return child && child.exitCode === null && child.signalCode === null;
		});
	/** Every node still running says `cluster_state:ok`. */
	const clusterOk = async (/** @type {number} */ limitMs = 20_000) => {
		for (const { port } of alive()) {
			await waitForReply(
				port,
				password,
				['CLUSTER', 'INFO'],
				(reply) => String(reply).includes('cluster_state:ok'),
				`cluster node ${port} ok`,
				limitMs
			);
		}
	};
	try {
		for (let i = 0; i < 3 * (1 + replicas); i++) {
			const port = await freePort();
			// The bus port defaults to port + 10,000, which may be taken or past 65,535.
			const busPort = await freePort();
			const dir = path.join(root, `node-${port}`);
			const args = [
				...dataNodeArgs(port, dir),
				...authArgs(password),
				'--cluster-enabled',
				'yes',
				'--cluster-config-file',
				path.join(dir, 'nodes.conf'),
				'--cluster-port',
				String(busPort),
				'--cluster-node-timeout',
				String(nodeTimeoutMs)
			];
			children.set(port, spawnRedis(args, dir));
			nodes.push({ host: HOST, port });
		}
		for (const { port } of nodes) {
			await waitForReply(port, password, ['PING'], (reply) => reply === 'PONG', `node ${port}`);
		}
		// redis-cli makes the first three nodes given the masters, the rest their replicas.
		await runRedisCli([
			...(password ? ['-a', password, '--no-auth-warning'] : []),
			'--cluster',
			'create',
			...nodes.map(({ host, port }) => `${host}:${port}`),
			'--cluster-replicas',
			String(replicas),
			'--cluster-yes'
		]);
		await clusterOk();
		for (const { port } of nodes.slice(3)) {
			await waitForReply(
				port,
				password,
				['INFO', 'replication'],
				(reply) => String(reply).includes('master_link_status:up'),
				`cluster replica ${port} in sync`,
				30_000
			);
		}
	} catch (error) {
		await stop();
		throw error;
	}

	/** CLUSTER NODES as a live node sees it. */
	const clusterNodes = async () => {
		for (const { port } of alive()) {
			try {
				return clusterNodesOf(await ask(port, password, ['CLUSTER', 'NODES']));
			} catch {
				// ask the next node
			}
		}
		throw new Error('No cluster node answers');
	};
	/** @param {HostPort} master */
	const replicaOf = async (master) => {
		const all = await clusterNodes();
		const id = all.find(({ port }) => port === master.port)?.id;
		const replica = all.find(({ masterId, flags }) => masterId === id && !flags.includes('fail'));
		if (!id || !replica) throw new Error(`No replica of ${master.port}`);
		return { host: HOST, port: replica.port };
	};
	/** Until `node` is a master and the cluster is whole again. @param {HostPort} node */
	const promoted = async (node) => {
		await waitForReply(
			node.port,
			password,
			['ROLE'],
			(reply) => Array.isArray(reply) && reply[0] === 'master',
			`replica ${node.port} promoted`
		);
		await clusterOk();
		return node;
	};

	return {
		nodes,
		password,
		env: {
			REDIS_CLUSTER_NODES: hostPorts(nodes),
			...(password ? { REDIS_PASSWORD: password } : {})
		},
		async masterOf(key) {
			const slot = Number(await ask(alive()[0]?.port ?? 0, password, ['CLUSTER', 'KEYSLOT', key]));
			const master = (await clusterNodes()).find(
				({ flags, slots }) =>
					flags.includes('master') &&
					!flags.includes('fail') &&
					slots.some(([from, to]) => from <= slot && slot <= to)
			);
			if (!master) throw new Error(`No master serves slot ${slot}`);
			return { host: HOST, port: master.port };
		},
		async failover(master) {
			const replica = await replicaOf(master);
			await ask(replica.port, password, ['CLUSTER', 'FAILOVER']);
			return promoted(replica);
		},
		async killMaster(master) {
			const replica = await replicaOf(master);
			const child = children.get(master.port);
			if (child) await stopProcess(child, 'SIGKILL');
			return promoted(replica);
		},
		processOf: (port) => children.get(port),
		stop
	};
}

/**
 * Run redis-cli to its end; reject with its output when it fails.
 * @param {string[]} args
 */
async function runRedisCli(args) {
	const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (output += chunk));
	child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (output += chunk));
	const code = await new Promise((resolve) => child.on('exit', resolve));
	if (code !== 0)
		throw new Error(`redis-cli ${args.join(' ')} failed (${String(code)}): ${output}`);
}
