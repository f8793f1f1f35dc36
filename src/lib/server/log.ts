/**
 * The service's one logger: pino JSON lines to stdout and to a size-rotated file.
 *
 * Field names follow the seed's log example (`timestamp`, `level` as a label, `event`, ...).
 * Callers pass an `event` name and plain facts; never a passphrase, a file name, file content
 * or a raw client address (see README, "Logging").
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import { getConfig } from './config';

/** Rotate at 10 MB and keep five files besides the current one, as the design asks. */
const ROTATE_SIZE = '10m';
const ROTATE_KEEP = 5;

let logger: Logger | undefined;

function loggerOptions(): pino.LoggerOptions {
	return {
		level: getConfig().logLevel,
		base: undefined,
		messageKey: 'message',
		timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
		formatters: { level: (label) => ({ level: label }) }
	};
}

/**
 * Open the rotating log file and log to it from now on (start-up). Until then, and under
 * Vitest, lines go to stdout only. pino-roll names its files raven_zero.1.log, .2.log, ...
 * beside LOG_PATH and keeps a `current.log` symlink to the one being written.
 */
export async function initLog(): Promise<void> {
	const config = getConfig();
	// Vitest runs with mode `test`; the build replaces this with `false`.
	if (import.meta.env.MODE === 'test') return;
	const { dir, name, ext } = path.parse(config.logPath);
	mkdirSync(dir, { recursive: true });
	const file = await pinoRoll({
		file: path.join(dir, name),
		extension: ext || '.log',
		size: ROTATE_SIZE,
		limit: { count: ROTATE_KEEP },
		symlink: true
	});
	logger = pino(
		loggerOptions(),
		pino.multistream([{ stream: pino.destination({ dest: 1, sync: false }) }, { stream: file }])
	);
}

/** The process-wide logger. */
export function log(): Logger {
	logger ??= pino(loggerOptions(), pino.destination({ dest: 1, sync: true }));
	return logger;
}

/** Flush buffered lines; called once on shutdown so the last lines are not lost. */
export async function flushLog(): Promise<void> {
	const current = logger;
	if (!current) return;
	await new Promise<void>((resolve) => current.flush(() => resolve()));
}
