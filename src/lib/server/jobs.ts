/**
 * Background jobs on croner. Each job is protected against overlapping itself, and a job that
 * must run on one instance only takes a store lock first (`runExclusive`).
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { sweepExpired, sweepOrphans, type SweepDeps } from './cleanup';
import { log } from './log';
import type { JobName, Metrics } from './metrics';
import { store } from './store';

const EVERY_MINUTE = '* * * * *';
const HEARTBEAT_TTL_MS = 5 * 60_000;
/** A heartbeat older than this means the scheduler has stopped: two missed beats plus slack. */
export const HEARTBEAT_STALE_MS = 150_000;

/** Heartbeats are per instance, so one instance's health does not vouch for another's jobs. */
const instanceId = randomUUID();
const heartbeatName = `scheduler:${instanceId}`;

let jobs: Cron[] = [];
let lastBeatAt: number | undefined;

/** Record that this instance's scheduler is alive. */
export async function beat(): Promise<void> {
	const at = Date.now();
	lastBeatAt = at;
	await store().recordHeartbeat(heartbeatName, at, HEARTBEAT_TTL_MS);
}

/**
 * Run `task` only if this instance can take the named lock, so that instances sharing a
 * store do not run the same sweep at once. Resolves whether the task ran.
 */
export async function runExclusive(
	name: string,
	ttlMs: number,
	task: () => Promise<void>
): Promise<boolean> {
	const token = await store().acquireLock(name, ttlMs);
	if (!token) return false;
	try {
		await task();
	} finally {
		await store().releaseLock(name, token);
	}
	return true;
}

function onJobError(name: string) {
	return (error: unknown) => {
		log().error({
			event: 'job_failed',
			job: name,
			error: error instanceof Error ? error.message : String(error)
		});
	};
}

/** Run a sweep under its store lock, so one instance at a time does it; resolves whether it ran. */
function exclusively(
	name: string,
	ttlMs: number,
	sweep: () => Promise<unknown>
): () => Promise<boolean> {
	return () =>
		runExclusive(name, ttlMs, async () => {
			await sweep();
		});
}

/** Time each run of a job for the metrics; a run that did not take its lock is not counted. */
function measured(
	metrics: Metrics,
	job: JobName,
	task: () => Promise<boolean | void>
): () => Promise<void> {
	return async () => {
		const startedAt = Date.now();
		const seconds = () => (Date.now() - startedAt) / 1000;
		try {
			if ((await task()) === false) return;
		} catch (error) {
			metrics.jobRan(job, startedAt, seconds(), true);
			throw error;
		}
		metrics.jobRan(job, startedAt, seconds(), false);
	};
}

/** Start the jobs (once, at start-up); the first heartbeat is recorded straight away. */
export function startJobs(sweeps: SweepDeps): void {
	if (jobs.length > 0) return;
	const { cleanupIntervalMinutes } = sweeps.config;
	const { metrics } = sweeps;
	jobs = [
		new Cron(
			EVERY_MINUTE,
			{ name: 'heartbeat', protect: true, catch: onJobError('heartbeat') },
			measured(metrics, 'heartbeat', beat)
		),
		new Cron(
			EVERY_MINUTE,
			{ name: 'sweep-expired', protect: true, catch: onJobError('sweep-expired') },
			measured(
				metrics,
				'sweep-expired',
				exclusively('sweep-expired', 55_000, () => sweepExpired(sweeps))
			)
		),
		new Cron(
			EVERY_MINUTE,
			{
				name: 'sweep-orphans',
				protect: true,
				catch: onJobError('sweep-orphans'),
				// A cron step cannot say "every 90 minutes"; croner's interval can.
				interval: cleanupIntervalMinutes * 60
			},
			measured(
				metrics,
				'sweep-orphans',
				exclusively('sweep-orphans', cleanupIntervalMinutes * 60_000, () => sweepOrphans(sweeps))
			)
		)
	];
	measured(metrics, 'heartbeat', beat)().catch(onJobError('heartbeat'));
}

/** Stop every job; a run in progress finishes, no new one starts. */
export function stopJobs(): void {
	for (const job of jobs) job.stop();
	jobs = [];
}

/** When this instance's heartbeat last ran: from the store, or from memory when it is away. */
export async function lastHeartbeat(): Promise<number | undefined> {
	try {
		return (await store().readHeartbeat(heartbeatName)) ?? lastBeatAt;
	} catch {
		return lastBeatAt;
	}
}

/** Whether the jobs are scheduled at all (false before start and after shutdown). */
export function jobsRunning(): boolean {
	return jobs.length > 0 && jobs.every((job) => job.isRunning());
}
