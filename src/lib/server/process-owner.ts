/**
 * Who holds an upload's reservation, so that a process starting later can tell a crashed
 * upload from another instance's upload in progress.
 *
 * Why: an upload reserves its lookup id in the store (RESERVATION_TTL_SECONDS, refreshed while
 * it streams) before it writes TEMP_PATH/<id>.part, and the start-up cleanup keeps parts
 * whose id is reserved, because another instance sharing the folder may be writing them.
 * After a crash (SIGKILL, OOM) with Redis, the dead process's reservations outlive it, so its
 * half-written parts survived the restart for up to ORPHAN_AGE_MINUTES. Naming the holder lets the start-up cleanup remove
 * them at once when the holder is certainly dead, and keep them whenever it cannot tell.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** The PID namespace (Linux), so that PIDs are only compared within one namespace. */
function pidNamespace(): string {
	try {
		return readlinkSync('/proc/self/ns/pid').replace(/[^\w:[\]]/g, '');
	} catch {
		return '';
	}
}

const SEPARATOR = '|';

/** This process: `host|pid namespace|pid|random`, the random part unique to this start. */
export const PROCESS_OWNER = [hostname(), pidNamespace(), String(process.pid), randomUUID()].join(
	SEPARATOR
);

/**
 * Whether `owner` (a PROCESS_OWNER) names a process that has certainly stopped: on this host
 * and in this PID namespace, either its PID runs nothing or only a zombie (a process that
 * ended but that its parent has not reaped: `kill(pid, 0)` still succeeds on it), or it is our
 * own PID under another start (an earlier life of a restarted container). Anything else
 * (another host or container, an unknown format, a PID in use) is not judged: false, and the
 * part is kept as before.
 */
export function isDeadOwner(owner: string): boolean {
	const [host, namespace, pidText, start, ...rest] = owner.split(SEPARATOR);
	if (rest.length > 0 || !start || host !== hostname() || namespace !== pidNamespace()) {
		return false;
	}
	const pid = Number(pidText);
	if (!Number.isSafeInteger(pid) || pid <= 0) return false;
	if (pid === process.pid) return owner !== PROCESS_OWNER;
	try {
		process.kill(pid, 0);
		return isZombie(pid);
	} catch (error) {
		// EPERM: it runs, as another user.
		return (error as NodeJS.ErrnoException).code === 'ESRCH';
	}
}

/**
 * Whether a PID is a zombie, from /proc/<pid>/stat: `pid (command) state ...`, the state
 * after the last `)` (the command may itself hold parentheses). False where /proc is missing.
 */
function isZombie(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat
			.slice(stat.lastIndexOf(')') + 1)
			.trim()
			.startsWith('Z');
	} catch {
		return false;
	}
}
