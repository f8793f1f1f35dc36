/**
 * Prometheus metrics (prom-client), for operators. The rest of the server sees only the
 * `Metrics` hooks below: one call where something worth counting happens. `noMetrics` does
 * nothing, so the unit tests and a server without a metrics endpoint pay nothing for them;
 * services.ts hands every part the process's one instance.
 *
 * What never goes in a label or a value: a passphrase, an access key, a file name, a lookup
 * id or a client address, not even hashed. Every label has a small fixed set of values (route
 * ids, HTTP methods, status classes, the catalogue's codes, limit and job names), so a client
 * cannot grow the series whatever it sends.
 *
 * Several instances: each exposes its own registry. Counters and histograms are per instance
 * (sum them); a gauge that describes shared state (the storage folder, the store) says so in
 * its HELP text and is to be read with max(), never summed.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERRORS, type ErrorCode } from '../errors';
import type { StorageSpace } from './files';
import type { Refusal } from './refusal';
import type { HealthReport } from '../schemas';
import type { QuotaLimits, QuotaUsage } from './store/types';

/** Buckets from 1 ms to 60 s: they tell 5 ms from 10 ms and 5 s from 10 s. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Store commands take well under a millisecond when all is well; 2 s is the command deadline. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];
/** One scrypt costs about 40 ms of a core; a wait of seconds means the queue is long. */
const KDF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The limits of limits.ts, by the name a hit is counted under. */
export const LIMIT_NAMES = ['health', 'upload', 'lookup', 'malformed', 'failed_lookups'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** The background jobs of jobs.ts. */
export const JOB_NAMES = ['heartbeat', 'sweep-expired', 'sweep-orphans'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** Which part of the service shredded a file. */
export type ShredCause = 'last_download' | 'sweep_expired' | 'sweep_orphans' | 'startup';

/** A request, as the entry point saw it end. `status` 0: the connection closed before the answer ended. */
export type RequestSample = { route: string; method: string; status: number; seconds: number };

/** What the storage sweep found (reconciles the running totals). */
export type StorageCount = { liveDrops: number; storedBytes: number; tempParts: number };

/** What the scrape reads at scrape time, cheaply (one statfs, one store read, the health check). */
export type MetricSources = {
	checkHealth(): Promise<HealthReport>;
	/**
	 * The storage file system: bytes free for the service, and its size; undefined when the
	 * storage has no such thing (an object store).
	 */
	space(): Promise<StorageSpace | undefined>;
	kdfQueueLength(): number;
	/** When the last expiry sweep that left no ended file started (any instance), if known. */
	lastCleanSweep(): Promise<number | undefined>;
	storeUp(): boolean;
	/** The storage quotas' running totals (one store read) and their limits (quotas.ts). */
	quota(): Promise<{ usage: QuotaUsage; limits: QuotaLimits }>;
};

/** The hooks the key derivation calls (crypto/keys.ts). */
export type KdfObserver = {
	kdfWaited(seconds: number): void;
	kdfRan(seconds: number): void;
	kdfShed(): void;
};

export interface Metrics extends KdfObserver {
	readonly enabled: boolean;
	request(sample: RequestSample): void;
	refused(refusal: Refusal): void;
	uploadStarted(): void;
	uploadEnded(stored: { bytes: number; storedBytes: number } | null): void;
	downloadEnded(result: { completed: boolean; bytes: number }): void;
	fileShredded(cause: ShredCause, storedBytes?: number): void;
	storageCounted(count: StorageCount): void;
	storeCommand(seconds: number, failed: boolean): void;
	storeReconnected(): void;
	limitHit(limit: LimitName): void;
	blockStarted(seconds: number): void;
	jobRan(job: JobName, startedAt: number, seconds: number, failed: boolean): void;
	/** Read at scrape time from these (set once the services exist). */
	watch(sources: MetricSources): void;
	/** The exposition: text format 0.0.4. */
	render(): Promise<{ contentType: string; body: string }>;
}

/** Metrics off: every hook does nothing. */
export const noMetrics: Metrics = {
	enabled: false,
	request() {},
	refused() {},
	uploadStarted() {},
	uploadEnded() {},
	downloadEnded() {},
	fileShredded() {},
	storageCounted() {},
	storeCommand() {},
	storeReconnected() {},
	limitHit() {},
	blockStarted() {},
	jobRan() {},
	kdfWaited() {},
	kdfRan() {},
	kdfShed() {},
	watch() {},
	render: () => Promise.resolve({ contentType: 'text/plain', body: '' })
};

function statusClass(status: number): string {
	return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'aborted';
}

/** `read`, shared by every caller while one read is in progress (one per scrape). */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
	let pending: Promise<T> | undefined;
	return () =>
		(pending ??= read().finally(() => {
			pending = undefined;
		}));
}

/** Build the process's registry and its hooks. */
export function createMetrics(): Metrics {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	let sources: MetricSources | undefined;
	const registers = [registry];

	const requestDuration = new Histogram({
		name: 'raven_zero_http_request_duration_seconds',
		help: 'Requests from arrival until the last byte of the answer was sent (a download: the whole file), by route id ("(static)" for assets, "(unmatched)" otherwise), method and status class ("aborted": the connection closed first).',
		labelNames: ['route', 'method', 'status_class'],
		buckets: DURATION_BUCKETS,
		registers
	});
	const uploads = new Counter({
		name: 'raven_zero_uploads_total',
		help: 'Uploads completed and stored as a drop.',
		registers
	});
	const uploadBytes = new Counter({
		name: 'raven_zero_upload_bytes_total',
		help: 'File bytes (plaintext) received in completed uploads.',
		registers
	});
	const downloads = new Counter({
		name: 'raven_zero_downloads_total',
		help: 'Downloads that sent the whole file and passed the SHA-256 check.',
		registers
	});
	const downloadBytes = new Counter({
		name: 'raven_zero_download_bytes_total',
		help: 'File bytes (plaintext) sent to downloads, cut-off ones included.',
		registers
	});
	const refusals = new Counter({
		name: 'raven_zero_refusals_total',
		help: 'Requests refused, by error code of the catalogue (README, Errors).',
		labelNames: ['code'],
		registers
	});
	const kdfWait = new Histogram({
		name: 'raven_zero_kdf_wait_seconds',
		help: 'Time a passphrase request waited for a scrypt slot, including waits that ended shed at KDF_MAX_WAIT_MS.',
		buckets: KDF_BUCKETS,
		registers
	});
	const kdfRun = new Histogram({
		name: 'raven_zero_kdf_run_seconds',
		help: 'Time one scrypt took (N=2^14, r=8); the _count is the scrypt runs.',
		buckets: KDF_BUCKETS,
		registers
	});
	const kdfShed = new Counter({
		name: 'raven_zero_kdf_shed_total',
		help: 'Passphrase requests shed with 503 SERVER_BUSY: KDF_QUEUE_LIMIT were already waiting, or they waited KDF_MAX_WAIT_MS.',
		registers
	});
	new Gauge({
		name: 'raven_zero_kdf_queue_length',
		help: 'Passphrase requests waiting for a scrypt slot now.',
		registers,
		collect() {
			this.set(sources?.kdfQueueLength() ?? 0);
		}
	});
	const liveDrops = new Gauge({
		name: 'raven_zero_live_drops',
		help: "Stored drops whose file is still needed. Shared storage: every instance's view of the same folder (exact after the minute's expiry sweep, plus this instance's own uploads and burns since); read with max(), never sum.",
		registers
	});
	const storedBytes = new Gauge({
		name: 'raven_zero_stored_bytes',
		help: 'Bytes of the encrypted files of live drops in the storage (folder or bucket). Shared storage: read with max(), never sum (see raven_zero_live_drops).',
		registers
	});
	const tempParts = new Gauge({
		name: 'raven_zero_temp_parts',
		help: 'Upload parts in TEMP_PATH (STORAGE_BACKEND=s3: multipart uploads not completed; an upload smaller than a part is one PUT and never shows): those found by the last sweep, plus and minus the uploads this instance started and ended since. Shared storage: read with max().',
		registers
	});
	const countedAt = new Gauge({
		name: 'raven_zero_storage_counted_timestamp_seconds',
		help: 'When this instance last counted the storage folder (the expiry sweep, every minute on one instance).',
		registers
	});
	// Gauges read together at scrape time share one read: the registry collects every metric
	// at once, so a gauge set inside another's collect would show the previous scrape's value.
	const disk = sharedRead(() =>
		sources ? sources.space().catch(() => undefined) : Promise.resolve(undefined)
	);
	const quota = sharedRead(() =>
		sources ? sources.quota().catch(() => undefined) : Promise.resolve(undefined)
	);
	const gaugeOf = (name: string, help: string, read: () => Promise<number | undefined>) =>
		new Gauge({
			name,
			help,
			registers,
			async collect() {
				this.set((await read()) ?? NaN);
			}
		});
	gaugeOf(
		'raven_zero_disk_free_bytes',
		'Bytes free for the service on the file system of STORAGE_PATH (one statfs per scrape); NaN when it cannot be read, and with STORAGE_BACKEND=s3 (an object store does not tell). Shared storage: read with max().',
		async () => (await disk())?.freeBytes
	);
	gaugeOf(
		'raven_zero_disk_size_bytes',
		'Size of the file system of STORAGE_PATH; NaN with STORAGE_BACKEND=s3. Shared storage: read with max().',
		async () => (await disk())?.sizeBytes
	);
	gaugeOf(
		'raven_zero_quota_used_bytes',
		'Bytes held against STORAGE_QUOTA by stored drops and uploads in progress, across every instance (one store read per scrape). Shared: read with max().',
		async () => (await quota())?.usage.bytes
	);
	gaugeOf(
		'raven_zero_quota_limit_bytes',
		'STORAGE_QUOTA: past it uploads are refused with 507 (+Inf when unlimited).',
		async () => (await quota())?.limits.maxBytes
	);
	gaugeOf(
		'raven_zero_quota_used_drops',
		'Live drops and uploads in progress counted against MAX_LIVE_DROPS, across every instance. Shared: read with max().',
		async () => (await quota())?.usage.drops
	);
	gaugeOf(
		'raven_zero_quota_limit_drops',
		'MAX_LIVE_DROPS: past it uploads are refused with 507 (+Inf when unlimited).',
		async () => (await quota())?.limits.maxDrops
	);
	const shredded = new Counter({
		name: 'raven_zero_files_shredded_total',
		help: 'Files shredded, by cause: last_download (the last use), sweep_expired (the drop expired or was lost), sweep_orphans and startup (leftovers).',
		labelNames: ['cause'],
		registers
	});
	const processStartedAt = Date.now() - process.uptime() * 1000;
	new Gauge({
		name: 'raven_zero_shredder_lag_seconds',
		help: 'Upper bound on the age of the oldest stored file whose drop has ended: seconds since the start of the last expiry sweep (on any instance sharing the store) that shredded every such file. About 60 when all is well; the same on every instance, read with max().',
		registers,
		async collect() {
			if (!sources) return;
			const at = await sources.lastCleanSweep().catch(() => undefined);
			this.set((Date.now() - (at ?? processStartedAt)) / 1000);
		}
	});
	const storeDuration = new Histogram({
		name: 'raven_zero_store_command_duration_seconds',
		help: "The metadata store's operations as the service sees them (one Lua script or command each), failed ones included.",
		buckets: STORE_BUCKETS,
		registers
	});
	const storeErrors = new Counter({
		name: 'raven_zero_store_errors_total',
		help: 'Store operations that failed (store unreachable or too slow: the request got 503).',
		registers
	});
	const storeReconnects = new Counter({
		name: 'raven_zero_store_reconnects_total',
		help: 'Times the connection to Redis came back after it was lost.',
		registers
	});
	new Gauge({
		name: 'raven_zero_store_up',
		help: 'Whether the store can serve commands now (1) or not (0); the in-process store is always 1.',
		registers,
		collect() {
			if (sources) this.set(sources.storeUp() ? 1 : 0);
		}
	});
	const limitHits = new Counter({
		name: 'raven_zero_limit_hits_total',
		help: 'Requests refused by a limit, by limit: health, upload, lookup, malformed (passphrases not in the word list), failed_lookups (the brute-force block).',
		labelNames: ['limit'],
		registers
	});
	const blocks = new Counter({
		name: 'raven_zero_blocks_total',
		help: 'Client addresses (or IPv6 networks) blocked for too many unknown passphrases. Each block is counted by the instance that imposed it: sum across instances.',
		registers
	});
	/** When each block this instance imposed ends (ms); no address is kept. */
	let blockEnds: number[] = [];
	new Gauge({
		name: 'raven_zero_blocked_clients',
		help: 'Blocks imposed by this instance that have not ended yet: sum across instances.',
		registers,
		collect() {
			const now = Date.now();
			blockEnds = blockEnds.filter((end) => end > now);
			this.set(blockEnds.length);
		}
	});
	const jobLastRun = new Gauge({
		name: 'raven_zero_job_last_run_timestamp_seconds',
		help: 'When this instance last ran the job to its end (sweeps run on one instance at a time: read with max()).',
		labelNames: ['job'],
		registers
	});
	const jobLastDuration = new Gauge({
		name: 'raven_zero_job_last_duration_seconds',
		help: "How long this instance's last run of the job took.",
		labelNames: ['job'],
		registers
	});
	const jobFailures = new Counter({
		name: 'raven_zero_job_failures_total',
		help: 'Runs of the job that failed on this instance.',
		labelNames: ['job'],
		registers
	});
	const health = new Gauge({
		name: 'raven_zero_health_up',
		help: 'What /health/ says of each service now (1 usable, 0 not; the check runs at scrape time).',
		labelNames: ['service'],
		registers,
		async collect() {
			if (!sources) return;
			const report = await sources.checkHealth();
			for (const [service, state] of Object.entries(report.services)) {
				health.set({ service }, state === 'offline' ? 0 : 1);
			}
		}
	});

	// Every labelled series exists from the start at 0, so rate() and the dashboard see it.
	for (const code of Object.keys(ERRORS)) refusals.inc({ code }, 0);
	for (const limit of LIMIT_NAMES) limitHits.inc({ limit }, 0);
	for (const cause of ['last_download', 'sweep_expired', 'sweep_orphans', 'startup']) {
		shredded.inc({ cause }, 0);
	}
	for (const job of JOB_NAMES) jobFailures.inc({ job }, 0);

	return {
		enabled: true,
		request({ route, method, status, seconds }) {
			requestDuration.observe(
				{
					route,
					method: METHODS.has(method) ? method : 'other',
					status_class: statusClass(status)
				},
				seconds
			);
		},
		refused(refusal) {
			refusals.inc({ code: refusal.code satisfies ErrorCode });
		},
		uploadStarted() {
			tempParts.inc();
		},
		uploadEnded(stored) {
			tempParts.dec();
			if (!stored) return;
			uploads.inc();
			uploadBytes.inc(stored.bytes);
			liveDrops.inc();
			storedBytes.inc(stored.storedBytes);
		},
		downloadEnded({ completed, bytes }) {
			if (completed) downloads.inc();
			downloadBytes.inc(bytes);
		},
		fileShredded(cause, bytes) {
			shredded.inc({ cause });
			if (cause === 'last_download') {
				liveDrops.dec();
				if (bytes) storedBytes.dec(bytes);
			}
		},
		storageCounted(count) {
			liveDrops.set(count.liveDrops);
			storedBytes.set(count.storedBytes);
			tempParts.set(count.tempParts);
			countedAt.set(Date.now() / 1000);
		},
		storeCommand(seconds, failed) {
			storeDuration.observe(seconds);
			if (failed) storeErrors.inc();
		},
		storeReconnected() {
			storeReconnects.inc();
		},
		limitHit(limit) {
			limitHits.inc({ limit });
		},
		blockStarted(seconds) {
			blocks.inc();
			blockEnds.push(Date.now() + seconds * 1000);
		},
		jobRan(job, startedAt, seconds, failed) {
			if (failed) {
				jobFailures.inc({ job });
				return;
			}
			jobLastRun.set({ job }, startedAt / 1000 + seconds);
			jobLastDuration.set({ job }, seconds);
		},
		kdfWaited(seconds) {
			kdfWait.observe(seconds);
		},
		kdfRan(seconds) {
			kdfRun.observe(seconds);
		},
		kdfShed() {
			kdfShed.inc();
		},
		watch(value) {
			sources = value;
		},
		async render() {
			return { contentType: registry.contentType, body: await registry.metrics() };
		}
	};
}

/** Store methods that are not commands: waiting for the connection, and closing it. */
const NOT_COMMANDS = new Set<PropertyKey>(['ready', 'close', 'constructor']);

/**
 * The store with each operation timed (raven_zero_store_command_duration_seconds). A Proxy,
 * so the store keeps its class (limits.ts tells Redis from memory by it) and its own fields;
 * the limiters' commands on the Redis client are not seen here.
 */
export function measureStore<S extends object>(store: S, metrics: Metrics): S {
	if (!metrics.enabled) return store;
	return new Proxy(store, {
		get(target, property) {
			const value: unknown = Reflect.get(target, property);
			if (typeof value !== 'function') return value;
			// Bound to the store itself: its private fields are not the proxy's.
			if (NOT_COMMANDS.has(property)) return (value as () => unknown).bind(target);
			return async (...args: unknown[]) => {
				const started = performance.now();
				let failed = true;
				try {
					const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
					failed = false;
					return result;
				} finally {
					metrics.storeCommand((performance.now() - started) / 1000, failed);
				}
			};
		}
	});
}

/** What watchConnection needs of an ioredis client. */
type ConnectionEvents = { status: string; on(event: 'ready', listener: () => void): unknown };

/**
 * Count the Redis client's reconnections (ioredis emits `ready` on every connect, the first
 * included) and tell whether it is connected now. Without a client (the in-process store) the
 * store is always up.
 */
export function watchConnection(
	client: ConnectionEvents | undefined,
	metrics: Metrics
): () => boolean {
	if (!client) return () => true;
	let connectedBefore = client.status === 'ready';
	client.on('ready', () => {
		if (connectedBefore) metrics.storeReconnected();
		connectedBefore = true;
	});
	return () => client.status === 'ready';
}
