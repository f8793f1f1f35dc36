/**
 * docs/monitoring: the alert rules pass `promtool check rules` and their unit test
 * (`promtool test rules`), and every metric the rules and the dashboard name is one the
 * server exposes. (tests/integration/metrics.test.ts runs each dashboard query against a
 * real Prometheus scraping the server.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
	dashboardQueries,
	MONITORING_DIR as DIR,
	promtool,
	requirePrometheus
} from '../helpers/prometheus';
import { createMetrics } from '../../src/lib/server/metrics';

const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8');

beforeAll(() => requirePrometheus());

describe('alert rules', () => {
	test('promtool check rules accepts them', () => {
		const checked = promtool(['check', 'rules', path.join(DIR, 'alerts.yml')]);
		expect(checked.output).toContain('SUCCESS: 7 rules found');
		expect(checked.code).toBe(0);
	});

	test('promtool test rules: each alert fires when it should and not before', () => {
		const tested = promtool(['test', 'rules', path.join(DIR, 'alerts.test.yml')]);
		expect(tested.output).toContain('SUCCESS');
		expect(tested.code).toBe(0);
	});

	test('the alerts the README promises are there', () => {
		const names = [...read('alerts.yml').matchAll(/- alert: (\w+)/g)].map((match) => match[1]);
		expect(names).toEqual([
			'RavenZeroDown',
			'RavenZeroDegraded',
			'RavenZeroShredderLagging',
			'RavenZeroDiskAlmostFull',
			'RavenZeroQuotaAlmostFull',
			'RavenZeroKdfShedding',
			'RavenZeroBruteForceBlocks'
		]);
	});
});

test('every metric the rules and the dashboard name is exposed by the server', async () => {
	const { body } = await createMetrics().render();
	const exposed = new Set([...body.matchAll(/^# TYPE (\w+) /gm)].map((match) => match[1]));
	const named = new Set(
		[read('alerts.yml'), ...dashboardQueries().map(({ expr }) => expr)].flatMap((text) =>
			[...text.matchAll(/\b((?:raven_zero|nodejs|process)_\w+)/g)].map((match) =>
				(match[1] ?? '').replace(/_(bucket|sum|count)$/, '')
			)
		)
	);
	expect(named.size).toBeGreaterThan(20);
	expect([...named].filter((name) => !exposed.has(name))).toEqual([]);
});
