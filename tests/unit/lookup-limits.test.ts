// Limits.lookupAndBlock (issue #11): the lookup's count and the brute-force block's read run
// at once, one round trip to the store instead of two. These pin that it decides as the two
// steps one after the other did: every lookup counted, the rate limit's refusal first (with
// only its metric), then the block.
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/lib/server/config';
import { Limits } from '../../src/lib/server/limits';
import { noMetrics, type LimitName } from '../../src/lib/server/metrics';
import { MemoryStore } from '../../src/lib/server/store/memory';

const CLIENT = '192.0.2.10';

function build(env: Record<string, string>) {
	const hits: LimitName[] = [];
	const config = parseConfig({ DOWNLOAD_FAIL_LIMIT: '2', ...env }, '/tmp');
	const limits = new Limits(config, new MemoryStore(), {
		...noMetrics,
		limitHit: (name) => hits.push(name)
	});
	return { limits, hits };
}

describe('a lookup is counted and the block read in one step', () => {
	test('a client under both limits passes, with the lookup limit’s headers', async () => {
		const { limits, hits } = build({ LOOKUP_RATE_LIMIT: '5/minute' });
		const decision = await limits.lookupAndBlock(CLIENT);
		expect(decision).toEqual({
			ok: true,
			headers: { 'RateLimit-Limit': '5', 'RateLimit-Remaining': '4', 'RateLimit-Reset': '60' }
		});
		expect(hits).toEqual([]);
	});

	test('a blocked client is refused for its failures, and the lookup still counts', async () => {
		const { limits, hits } = build({ LOOKUP_RATE_LIMIT: '2/minute' });
		await limits.recordLookupFailure(CLIENT);
		await limits.recordLookupFailure(CLIENT);
		const blocked = await limits.lookupAndBlock(CLIENT);
		expect(blocked.ok).toBe(false);
		expect(!blocked.ok && blocked.code).toBe('TOO_MANY_FAILED_LOOKUPS');
		expect(hits).toEqual(['failed_lookups']);
		// One more uses up the two of LOOKUP_RATE_LIMIT: the lookup the block refused counted.
		await limits.lookupAndBlock(CLIENT);
		const limited = await limits.lookup(CLIENT);
		expect(!limited.ok && limited.code).toBe('RATE_LIMITED');
	});

	test('past both, the rate limit answers first and only its refusal is counted', async () => {
		const { limits, hits } = build({ LOOKUP_RATE_LIMIT: '1/minute' });
		await limits.recordLookupFailure(CLIENT);
		await limits.recordLookupFailure(CLIENT);
		await limits.lookupAndBlock(CLIENT);
		hits.length = 0;
		const decision = await limits.lookupAndBlock(CLIENT);
		expect(!decision.ok && decision.code).toBe('RATE_LIMITED');
		expect(hits).toEqual(['lookup']);
	});
});
