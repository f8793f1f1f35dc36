/**
 * Self-destruction in the storage: files whose drop is gone are removed (shredded on disk,
 * deleted on S3), and leftovers of crashed uploads (temp parts, unfinished multipart uploads)
 * too. The store decides what is still needed (a record, an upload in progress, or a download
 * still reading), so several instances sharing one folder or bucket never remove each other's
 * live files.
 */
import type { FileEntry } from './files';
import type { ShredCause } from './metrics';
import { isDeadOwner } from './process-owner';
import type { Services } from './services';
import type { QuotaUsage } from './store/types';

/** `keptBytes`: the bytes of the files kept because a drop or transfer needs them. */
export type SweepReport = { checked: number; shredded: number; kept: number; keptBytes: number };

/** What the sweeps work on. */
export type SweepDeps = Pick<Services, 'config' | 'store' | 'files' | 'log' | 'metrics'>;

/**
 * The heartbeat name under which the expiry sweep records when its last run started that
 * shredded every file whose drop had ended (the metrics' shredder lag reads it).
 */
export const CLEAN_SWEEP_MARK = 'sweep-expired:clean';
const CLEAN_SWEEP_MARK_TTL_MS = 24 * 60 * 60_000;

async function shredUnneeded(
	{ config, store, files, metrics }: SweepDeps,
	entries: FileEntry[],
	minimumAgeMs: number,
	cause: ShredCause
): Promise<SweepReport> {
	const orphanAgeMs = config.orphanAgeMinutes * 60_000;
	const report: SweepReport = { checked: 0, shredded: 0, kept: 0, keptBytes: 0 };
	const now = Date.now();
	for (const entry of entries) {
		report.checked++;
		if (now - entry.modifiedAt < minimumAgeMs) {
			report.kept++;
			report.keptBytes += entry.size;
			continue;
		}
		// Names that are not lookup ids are not ours to judge by the store: only age counts.
		const needed = entry.id !== '' && (await store.isFileNeeded(entry.id));
		if (needed || (entry.id === '' && now - entry.modifiedAt < orphanAgeMs)) {
			report.kept++;
			report.keptBytes += entry.size;
		} else if (await files.remove(entry)) {
			report.shredded++;
			metrics.fileShredded(cause);
			// Its bytes are off the disk: the storage quota has them back.
			if (entry.id !== '') await store.releaseQuota(entry.id);
		}
	}
	return report;
}

/**
 * Every minute: shred stored files whose record is gone (expired, burned, or lost with a
 * Redis that restarted empty) and that no download is reading.
 */
export async function sweepExpired(deps: SweepDeps): Promise<SweepReport> {
	const startedAt = Date.now();
	const report = await shredUnneeded(deps, await deps.files.listStored(), 0, 'sweep_expired');
	if (report.shredded > 0) deps.log.info({ event: 'sweep_expired', ...report });
	// Every file whose drop had ended when this sweep started is gone now (a failed shred
	// throws before this line).
	await deps.store.recordHeartbeat(CLEAN_SWEEP_MARK, startedAt, CLEAN_SWEEP_MARK_TTL_MS);
	if (deps.metrics.enabled) {
		// Reconcile the running totals: one more listing a minute, never one per scrape.
		const tempParts = (await deps.files.listTemp()).length;
		deps.metrics.storageCounted({
			liveDrops: report.kept,
			storedBytes: report.keptBytes,
			tempParts
		});
	}
	await reconcileQuota(deps);
	return report;
}

/**
 * Release the storage-quota holds whose file nothing needs any more (the drop expired or
 * burned and its file went, or the upload's process died and its reservation lapsed), then
 * recompute the running totals from the holds: whatever crashed, quota comes back within a
 * minute of the store forgetting the drop. A hold is taken only while its id is reserved
 * (drops.ts), so a live upload's hold is never released here.
 */
export async function reconcileQuota({ store, log }: SweepDeps): Promise<QuotaUsage> {
	let released = 0;
	for (const id of await store.listQuotaHolds()) {
		if (await store.isFileNeeded(id)) continue;
		if ((await store.releaseQuota(id)) > 0) released++;
	}
	const usage = await store.reconcileQuota();
	if (released > 0) log.info({ event: 'quota_released', released, ...usage });
	return usage;
}

/**
 * Every CLEANUP_INTERVAL_MINUTES: remove temp parts and stored files older than
 * ORPHAN_AGE_MINUTES that nothing needs (crashed uploads, files of unknown origin).
 */
export async function sweepOrphans(deps: SweepDeps): Promise<SweepReport> {
	const age = deps.config.orphanAgeMinutes * 60_000;
	const temp = await shredUnneeded(deps, await deps.files.listTemp(), age, 'sweep_orphans');
	const stored = await shredUnneeded(deps, await deps.files.listStored(), age, 'sweep_orphans');
	const report = {
		checked: temp.checked + stored.checked,
		shredded: temp.shredded + stored.shredded,
		kept: temp.kept + stored.kept,
		keptBytes: temp.keptBytes + stored.keptBytes
	};
	deps.log.info({ event: 'sweep_orphans', ...report });
	return report;
}

/**
 * Free the reservations held by processes that have certainly died (a crash mid-upload with
 * Redis: the reservation outlives its process by up to RESERVATION_TTL_SECONDS, 10 minutes
 * by default; a live upload refreshes it, see drops.ts). Resolves how many.
 */
async function releaseDeadReservations(
	{ store }: SweepDeps,
	entries: FileEntry[]
): Promise<number> {
	let released = 0;
	for (const entry of entries) {
		if (entry.id === '') continue;
		const owner = await store.reservationOwner(entry.id);
		if (owner !== undefined && isDeadOwner(owner)) {
			await store.releaseReservation(entry.id);
			released++;
		}
	}
	return released;
}

/**
 * At start-up: temp parts that no upload holds are left over from a crash; remove them now
 * rather than waiting for ORPHAN_AGE_MINUTES. A part whose reservation is held by a process
 * that died (see process-owner.ts) is debris too. Another instance's upload in progress
 * holds its reservation in the shared store, so its part is kept.
 */
export async function clearStaleTemp(deps: SweepDeps): Promise<SweepReport> {
	const entries = await deps.files.listTemp();
	const released = await releaseDeadReservations(deps, entries);
	if (released > 0) deps.log.info({ event: 'startup_dead_reservations_released', released });
	const report = await shredUnneeded(deps, entries, 0, 'startup');
	if (report.checked > 0) deps.log.info({ event: 'startup_temp_cleanup', ...report });
	return report;
}
