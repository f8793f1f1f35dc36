/**
 * The metrics' own rules: the bearer check of METRICS_TOKEN, a refusal counted once however
 * many layers see it, and the timed store keeping its class (limits.ts tells Redis by it).
 */
import { describe, expect, test } from 'vitest';
import {
	accessForPassphrase,
	KDF_CONCURRENCY,
	KdfBusyError
} from '../../src/lib/server/crypto/keys';
import { bearerMatches } from '../../src/lib/server/http/metrics-endpoint';
import { createMetrics, measureStore, noMetrics } from '../../src/lib/server/metrics';
import { refuse } from '../../src/lib/server/refusal';
import { MemoryStore } from '../../src/lib/server/store/memory';

const TOKEN = 'k7Qp-2xZ9_vLm4Rt8Wn1Bc6Yh3Jd5Fs0Ga';

describe('bearerMatches', () => {
	test.each([
		[`Bearer ${TOKEN}`, true],
		[`bearer ${TOKEN}`, true],
		[`Bearer  ${TOKEN} `, true],
		[`Bearer ${TOKEN}x`, false],
		[`Bearer ${TOKEN.slice(0, -1)}`, false],
		[TOKEN, false],
		[`Basic ${TOKEN}`, false],
		['Bearer ', false],
		['', false],
		[undefined, false]
	] as const)('%j -> %s', (header, expected) => {
		expect(bearerMatches(header, TOKEN)).toBe(expected);
	});
});

/** The value of one series in the exposition. */
async function valueOf(metrics: ReturnType<typeof createMetrics>, series: string) {
	const { body } = await metrics.render();
	const line = body.split('\n').find((text) => text.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('refusals are counted by code, and every code of the catalogue is there from 0', async () => {
	const metrics = createMetrics();
	metrics.refused(refuse('UNKNOWN_PASSPHRASE'));
	metrics.refused(refuse('UNKNOWN_PASSPHRASE'));
	expect(await valueOf(metrics, 'raven_zero_refusals_total{code="UNKNOWN_PASSPHRASE"}')).toBe(2);
	expect(await valueOf(metrics, 'raven_zero_refusals_total{code="EXPIRED"}')).toBe(0);
});

test('the timed store is still the store, and its operations are timed', async () => {
	const store = new MemoryStore();
	expect(measureStore(store, noMetrics)).toBe(store);
	const metrics = createMetrics();
	const timed = measureStore(store, metrics);
	expect(timed).toBeInstanceOf(MemoryStore);
	expect(timed.kind).toBe('memory');
	expect(await timed.reserveId('a'.repeat(32), 1000)).toBe(true);
	expect(await timed.isFileNeeded('a'.repeat(32))).toBe(true);
	expect(await valueOf(metrics, 'raven_zero_store_command_duration_seconds_count')).toBe(2);
	expect(await valueOf(metrics, 'raven_zero_store_errors_total')).toBe(0);
	await timed.close();
});

test('a wait that ends at KDF_MAX_WAIT_MS is in the wait histogram, and both sheds are counted', async () => {
	const metrics = createMetrics();
	// KDF_CONCURRENCY run, 2 wait past a 1 ms deadline, 1 finds the queue (limit 2) full.
	const bounds = { queueLimit: 2, maxWaitMs: 1 };
	const settled = await Promise.all(
		Array.from({ length: KDF_CONCURRENCY + 3 }, (_, i) =>
			accessForPassphrase(`word-${i}`, bounds, metrics).then(
				() => 'ran',
				(error: unknown) => (error instanceof KdfBusyError ? 'shed' : 'failed')
			)
		)
	);
	expect(settled.filter((one) => one === 'ran').length).toBe(KDF_CONCURRENCY);
	expect(settled.filter((one) => one === 'shed').length).toBe(3);
	expect(await valueOf(metrics, 'raven_zero_kdf_run_seconds_count')).toBe(KDF_CONCURRENCY);
	expect(await valueOf(metrics, 'raven_zero_kdf_shed_total')).toBe(3);
	// The runs' waits and the two that timed out in the queue; the one refused at once never waited.
	expect(await valueOf(metrics, 'raven_zero_kdf_wait_seconds_count')).toBe(KDF_CONCURRENCY + 2);
	// The timed-out waits are at least the deadline: the sum says they were recorded as waited.
	expect(await valueOf(metrics, 'raven_zero_kdf_wait_seconds_sum')).toBeGreaterThanOrEqual(0.002);
});
