// The bench's command line (util.parseArgs) and what each mode runs: sizes, client counts,
// repeats and requests per run.
import { parseArgs } from 'node:util';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const USAGE = `npm run bench [-- options]
  --smoke         a few seconds: tiny cells, fails only if something errors
  --no-large      skip the 1 GiB upload and download
  --runs N        repeats per cell (default 3; the median is reported)
  --sizes LIST    only the cells of these sizes, e.g. 1KiB,10MiB
  --clients LIST  only these client counts, e.g. 10 (default 1,10,50)
  --ways LIST     only these ways of calling: passphrase (curl's), access (the pages'
                  access key); default both
  --storage s3    the files in a bucket of a one-node Swift (S3 API) started for the run,
                  against that engine's raw PUT/GET floor; by default only 10MiB at 10
                  clients, and the 1 GiB mode (default: fs, a folder)`;

/** The ways of calling a cell can be measured in (bench/load.js). */
export const WAYS = ['passphrase', 'access'];

/** `1KiB` or `10MiB` in bytes. */
export function parseSize(text) {
	const match = /^(\d+)(KiB|MiB)$/.exec(text);
	if (!match) throw new Error(`unknown size ${text} (use e.g. 1KiB or 10MiB)`);
	return Number(match[1]) * (match[2] === 'KiB' ? KiB : MiB);
}

/** A size as the report prints it: `1 KiB`, `10 MiB`, `1 GiB`. */
export function label(size) {
	return size >= GiB
		? `${size / GiB} GiB`
		: size >= MiB
			? `${size / MiB} MiB`
			: `${size / KiB} KiB`;
}

/**
 * @typedef {object} Options
 * @property {boolean} smoke
 * @property {'fs' | 's3'} storage where the server keeps the files
 * @property {boolean} large run the 1 GiB mode
 * @property {number} runs repeats per cell
 * @property {number[]} sizes bytes
 * @property {number[]} concurrency client counts
 * @property {string[]} ways ways of calling (WAYS)
 * @property {number} scryptRepeats
 */

/**
 * The options of one run; throws with a sentence on anything it does not know.
 * @param {string[]} args
 * @returns {Options}
 */
export function readOptions(args) {
	const { values } = parseArgs({
		args,
		allowNegative: true,
		options: {
			smoke: { type: 'boolean', default: false },
			large: { type: 'boolean', default: true },
			runs: { type: 'string', default: '3' },
			sizes: { type: 'string' },
			clients: { type: 'string' },
			ways: { type: 'string' },
			storage: { type: 'string', default: 'fs' }
		}
	});
	const storage = values.storage;
	if (storage !== 'fs' && storage !== 's3') {
		throw new Error(`--storage ${storage}: should be fs or s3`);
	}
	const ways = values.ways ? values.ways.split(',') : WAYS;
	for (const way of ways) {
		if (!WAYS.includes(way)) throw new Error(`unknown way ${way} (use ${WAYS.join(' or ')})`);
	}
	// On S3 the question is the engine's cost (issue #15): one cell, beside its raw floor.
	const concurrency = values.clients
		? values.clients.split(',').map(Number)
		: storage === 's3'
			? [10]
			: [1, 10, 50];
	for (const clients of concurrency) {
		if (!Number.isInteger(clients) || clients < 1) {
			throw new Error(`--clients ${values.clients}: should be whole numbers from 1`);
		}
	}
	const runs = Number(values.runs);
	if (!Number.isInteger(runs) || runs < 1) {
		throw new Error(`--runs ${values.runs}: should be a whole number from 1`);
	}
	if (values.smoke) {
		return {
			smoke: true,
			storage,
			large: false,
			runs: 1,
			sizes: [KiB, 256 * KiB],
			// One client count: each cell runs in both ways, and CI only asks that nothing fails.
			concurrency: [4],
			ways,
			scryptRepeats: 2
		};
	}
	const defaultSizes = storage === 's3' ? [10 * MiB] : [KiB, MiB, 10 * MiB];
	return {
		smoke: false,
		storage,
		large: values.large,
		runs,
		sizes: values.sizes ? values.sizes.split(',').map(parseSize) : defaultSizes,
		concurrency,
		ways,
		scryptRepeats: 10
	};
}

/**
 * Requests per run: at most 200, and at most ~400 MiB, but at least four per client, so that a
 * p95 is not simply the slowest request of the first wave (10 MiB at c=10: 40 requests).
 * @param {Options} options
 * @param {number} size
 * @param {number} concurrency
 */
export function requestsFor(options, size, concurrency) {
	if (options.smoke) return concurrency * 3;
	return Math.max(
		concurrency,
		4 * Math.min(concurrency, 10),
		Math.min(200, Math.floor((400 * MiB) / size))
	);
}
