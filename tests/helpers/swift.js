// @ts-check
/**
 * A real S3 engine for the tests and the benchmark: a one-node OpenStack Swift with its s3api
 * middleware (Debian's swift-proxy, swift-account, swift-container, swift-object and
 * memcached; `.ci/run` installs them), on loopback ports, in a temporary folder.
 *
 *     const swift = await startSwift();
 *     const bucket = await swift.createBucket();
 *     startServer({ ...swift.env(bucket), ... });
 *     await swift.stop();
 *
 * Four Python servers (account, container, object, proxy, one process each) and a memcached
 * for tempauth's tokens; the rings hold the ports, so they are built per start. The S3 user
 * is tempauth's `test:tester` with the key `testing`. Start it once per test file: it takes a
 * few seconds on a quiet machine and has taken over half a minute on a loaded one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import {
	CreateBucketCommand,
	ListMultipartUploadsCommand,
	ListObjectsV2Command,
	S3Client
} from '@aws-sdk/client-s3';
import { freePort, stopProcess, waitFor } from './processes.js';

/** Debian's Python, which has Swift: the `python3` on PATH may be another one (pyenv). */
const PYTHON = '/usr/bin/python3';
const LAUNCHER = path.join(import.meta.dirname, 'swift-server.py');
const REGION = 'us-east-1';
const ACCESS_KEY_ID = 'test:tester';
const SECRET_ACCESS_KEY = 'testing';
const BACKENDS = /** @type {const} */ (['account', 'container', 'object']);

/**
 * @typedef {object} TestSwift
 * @property {string} endpoint the S3 endpoint (the proxy), http://127.0.0.1:<port>
 * @property {{ accessKeyId: string, secretAccessKey: string }} credentials
 * @property {string} region
 * @property {(name?: string) => Promise<string>} createBucket a new bucket (a fresh name
 *   unless given); resolves its name
 * @property {(bucket: string, extra?: Record<string, string>) => Record<string, string>} env
 *   the server's settings for this engine and `bucket`, credentials included
 * @property {(options?: { requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' }) => S3Client} client
 *   an S3 client on it (the caller destroys it)
 * @property {(bucket: string) => Promise<{ key: string, size: number }[]>} objects every
 *   object of the bucket (up to 1,000)
 * @property {(bucket: string) => Promise<{ key: string, uploadId: string }[]>} uploads every
 *   multipart upload of the bucket not yet completed or aborted (up to 1,000)
 * @property {number[]} pids the engine's processes
 * @property {() => Promise<void>} stop stop every process and remove the folder
 */

/** @param {number} port */
function portAnswers(port) {
	return new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

/**
 * @param {string} dir
 * @param {Record<string, number>} ports
 */
function writeConfiguration(dir, ports) {
	const user = userInfo().username;
	// Swift's own logging goes to syslog (quiet here); the tests read the S3 answers instead.
	const common = [
		'[DEFAULT]',
		'bind_ip = 127.0.0.1',
		'workers = 0',
		`user = ${user}`,
		`swift_dir = ${dir}`,
		`devices = ${path.join(dir, 'devices')}`,
		'mount_check = false',
		'disable_fallocate = true',
		'log_level = WARNING'
	];
	writeFileSync(
		path.join(dir, 'swift.conf'),
		[
			'[swift-hash]',
			'swift_hash_path_prefix = raven-zero-tests',
			'swift_hash_path_suffix = raven-zero-tests',
			'',
			'[storage-policy:0]',
			'name = Policy-0',
			'default = yes',
			''
		].join('\n')
	);
	for (const name of BACKENDS) {
		writeFileSync(
			path.join(dir, `${name}-server.conf`),
			[
				...common,
				`bind_port = ${ports[name]}`,
				'',
				'[pipeline:main]',
				`pipeline = ${name}-server`,
				'',
				`[app:${name}-server]`,
				`use = egg:swift#${name}`,
				''
			].join('\n')
		);
	}
	const filters = [
		'catch_errors',
		'gatekeeper',
		'healthcheck',
		'proxy-logging',
		'cache',
		'listing_formats',
		'bulk',
		's3api',
		'tempauth',
		'copy',
		'slo',
		'dlo'
	];
	writeFileSync(
		path.join(dir, 'proxy-server.conf'),
		[
			...common,
			`bind_port = ${ports.proxy}`,
			'',
			'[pipeline:main]',
			`pipeline = ${filters.join(' ')} proxy-logging proxy-server`,
			'',
			'[app:proxy-server]',
			'use = egg:swift#proxy',
			'account_autocreate = true',
			'',
			...filters
				.filter((name) => !['cache', 's3api', 'tempauth'].includes(name))
				.flatMap((name) => [`[filter:${name}]`, `use = egg:swift#${name.replace('-', '_')}`, '']),
			'[filter:cache]',
			'use = egg:swift#memcache',
			`memcache_servers = 127.0.0.1:${ports.memcached}`,
			'',
			'[filter:s3api]',
			'use = egg:swift#s3api',
			`location = ${REGION}`,
			'',
			'[filter:tempauth]',
			'use = egg:swift#tempauth',
			`user_test_tester = ${SECRET_ACCESS_KEY} .admin`,
			''
		].join('\n')
	);
}

/**
 * Start the engine; resolves once the proxy's health check, every backend port and a
 * tempauth login answer.
 * @param {{ readyTimeoutMs?: number }} [options]
 * @returns {Promise<TestSwift>}
 */
export async function startSwift({ readyTimeoutMs = 90_000 } = {}) {
	const dir = mkdtempSync(path.join(tmpdir(), 'raven-zero-swift-'));
	mkdirSync(path.join(dir, 'devices', 'd1'), { recursive: true });
	/** @type {Record<string, number>} */
	const ports = {};
	for (const name of [...BACKENDS, 'proxy', 'memcached']) ports[name] = await freePort();
	writeConfiguration(dir, ports);

	/** @type {import('node:child_process').ChildProcess[]} */
	const children = [];
	/** @type {string[]} */
	const stderr = [];
	/**
	 * @param {string} command
	 * @param {string[]} args
	 */
	const run = (command, args) => {
		const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
		child.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ text) => {
			// Keep the end of what each wrote: enough to say why a start failed.
			stderr.push(text);
			if (stderr.length > 200) stderr.shift();
		});
		children.push(child);
		return child;
	};
	const stop = async () => {
		await Promise.all(children.map((child) => stopProcess(child)));
		rmSync(dir, { recursive: true, force: true });
	};

	try {
		const rings = run(PYTHON, [
			LAUNCHER,
			'rings',
			dir,
			String(ports.account),
			String(ports.container),
			String(ports.object)
		]);
		const [code] = await once(rings, 'exit');
		if (code !== 0) throw new Error(`building the rings failed (${code})`);
		const memcachedArgs = ['-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0'];
		// memcached refuses to run as root unless told which user to be.
		if (process.getuid?.() === 0) memcachedArgs.push('-u', 'root');
		run('memcached', memcachedArgs);
		for (const name of [...BACKENDS, 'proxy']) run(PYTHON, [LAUNCHER, name, dir]);
		const endpoint = `http://127.0.0.1:${ports.proxy}`;
		await waitFor(
			async () => {
				const exited = children.find((child) => child !== rings && child.exitCode !== null);
				if (exited) throw new Error(`a Swift process exited (${exited.exitCode})`);
				for (const name of [...BACKENDS, 'memcached']) {
					if (!(await portAnswers(ports[name] ?? 0))) return false;
				}
				const health = await fetch(`${endpoint}/healthcheck`).catch(() => undefined);
				if (health?.status !== 200) return false;
				const auth = await fetch(`${endpoint}/auth/v1.0`, {
					headers: { 'X-Auth-User': ACCESS_KEY_ID, 'X-Auth-Key': SECRET_ACCESS_KEY }
				}).catch(() => undefined);
				return auth !== undefined && auth.status >= 200 && auth.status < 300;
			},
			readyTimeoutMs,
			'Swift',
			250
		);
		const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
		/** @type {TestSwift['client']} */
		const client = ({ requestChecksumCalculation = 'WHEN_REQUIRED' } = {}) =>
			new S3Client({
				endpoint,
				region: REGION,
				forcePathStyle: true,
				credentials,
				requestChecksumCalculation,
				responseChecksumValidation: 'WHEN_REQUIRED'
			});
		let buckets = 0;
		return {
			endpoint,
			credentials,
			region: REGION,
			pids: children.flatMap((child) => (child.exitCode === null && child.pid ? [child.pid] : [])),
			async createBucket(name = `raven-zero-${process.pid}-${++buckets}`) {
				const s3 = client();
				try {
					await s3.send(new CreateBucketCommand({ Bucket: name }));
				} finally {
					s3.destroy();
				}
				return name;
			},
			env: (bucket, extra = {}) => ({
				STORAGE_BACKEND: 's3',
				S3_ENDPOINT: endpoint,
				S3_BUCKET: bucket,
				S3_REGION: REGION,
				S3_FORCE_PATH_STYLE: 'true',
				AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
				AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
				...extra
			}),
			client,
			async objects(bucket) {
				const s3 = client();
				try {
					const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
					return (listed.Contents ?? []).map((object) => ({
						key: object.Key ?? '',
						size: object.Size ?? 0
					}));
				} finally {
					s3.destroy();
				}
			},
			async uploads(bucket) {
				const s3 = client();
				try {
					const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
					return (listed.Uploads ?? []).map((upload) => ({
						key: upload.Key ?? '',
						uploadId: upload.UploadId ?? ''
					}));
				} finally {
					s3.destroy();
				}
			},
			stop
		};
	} catch (error) {
		await stop();
		const said = stderr.join('').slice(-4000);
		throw new Error(`${error instanceof Error ? error.message : String(error)}\n${said}`);
	}
}
