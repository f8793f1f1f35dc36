/**
 * Numbers as people read them, on both pages (universal: the browser imports it).
 */

/** 1536 -> "1.5 KiB"; the same units the server uses in its messages. */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${Number(value.toFixed(1))} ${units[unit]}`;
}

/** Milliseconds left -> "9:58" (or "1:02:03"); never negative. */
export function formatClock(ms: number): string {
	const total = Math.max(0, Math.ceil(ms / 1000));
	const hours = Math.floor(total / 3600);
	const minutes = Math.floor((total % 3600) / 60);
	const seconds = String(total % 60).padStart(2, '0');
	return hours > 0
		? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
		: `${minutes}:${seconds}`;
}

/** Seconds -> "45 seconds", "3 minutes", "1 minute" (rounded up: a wait is never shorter). */
export function formatWait(seconds: number): string {
	if (seconds < 60) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
	const minutes = Math.ceil(seconds / 60);
	return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

/** "1 use" / "3 uses". */
export function plural(count: number, one: string, many = `${one}s`): string {
	return `${count} ${count === 1 ? one : many}`;
}

/**
 * A moment as a clock time, "14:05": in the reader's own time zone in a browser; `utc` for a
 * page the server renders for a browser without JavaScript, whose time zone it cannot know
 * ("14:05 UTC").
 */
export function formatTimeOfDay(
	at: Date | string | number,
	options: { utc?: boolean } = {}
): string {
	const time = new Intl.DateTimeFormat('en-GB', {
		hour: '2-digit',
		minute: '2-digit',
		...(options.utc ? { timeZone: 'UTC' } : {})
	}).format(new Date(at));
	return options.utc ? `${time} UTC` : time;
}
