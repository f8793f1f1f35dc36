/**
 * The metrics as an operator gets them: a real Prometheus (Debian's) scrapes the built
 * server's metrics port while the test uploads and downloads, and its HTTP API must report
 * what the test did. Also: promtool accepts the exposition, the endpoint is off the public
 * surface (a 404 without the token), and it carries no secret.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { runServerExpectingFailure, startServer, waitFor } from '../helpers/processes.js';
import path from 'node:path';
import {
	dashboardQueries,
	MONITORING_DIR,
	promtool,
	requirePrometheus,
	startPrometheus,
	type TestPrometheus
} from '../helpers/prometheus';
import { serverForTests } from '../helpers/running';
import { encryptedSize } from '../../src/lib/server/crypto/file-format';

const TOKEN = randomBytes(24).toString('base64url');
const FILENAME = 'quarterly-secret-report.txt';
const FILE = randomBytes(200_000);

const MAX_LIVE_DROPS = 77;
const { server } = serverForTests({
	METRICS_PORT: '0',
	METRICS_TOKEN: TOKEN,
	MAX_LIVE_DROPS: String(MAX_LIVE_DROPS),
	STORAGE_QUOTA: '3M'
});
let metricsUrl: string;
let prometheus: TestPrometheus;

beforeAll(async () => {
	requirePrometheus();
	const listening = await server.waitForLine((line) => line.event === 'metrics_listening');
	metricsUrl = `http://127.0.0.1:${String(listening.port)}/metrics`;
	prometheus = await startPrometheus(
		() => `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${path.join(MONITORING_DIR, 'alerts.yml')}
scrape_configs:
  - job_name: raven-zero
    authorization:
      credentials: ${TOKEN}
    static_configs:
      - targets: ['127.0.0.1:${String(listening.port)}']
`
	);
});

afterAll(async () => {
	await prometheus?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Wait until Prometheus has scraped `expr` at `expected`. */
const scraped = (expr: string, expected: number) =>
	waitFor(
		async () => (await prometheus.value(expr)) === expected,
		20_000,
		`${expr} == ${expected}`
	);

describe('a real Prometheus scraping the metrics port', () => {
	let passphrase: string;

	test('counts an upload, a download and a refusal as they happened', async () => {
		await scraped('up{job="raven-zero"}', 1);

		const created = await upload(server.url, { data: FILE, filename: FILENAME });
		expect(created.status).toBe(201);
		passphrase = json<{ key: string }>(created).key;
		// Let a scrape see the live drop before the download burns it.
		await scraped('raven_zero_uploads_total', 1);
		expect(await prometheus.value('raven_zero_live_drops')).toBe(1);
		expect(await prometheus.value('raven_zero_stored_bytes')).toBe(encryptedSize(FILE.length));
		// The quota's running totals, read from the store at scrape time, and their limits.
		expect(await prometheus.value('raven_zero_quota_used_drops')).toBe(1);
		expect(await prometheus.value('raven_zero_quota_used_bytes')).toBe(encryptedSize(FILE.length));
		expect(await prometheus.value('raven_zero_quota_limit_drops')).toBe(MAX_LIVE_DROPS);
		expect(await prometheus.value('raven_zero_quota_limit_bytes')).toBe(3 * 1024 * 1024);

		const downloaded = await request(`${server.url}/download/${passphrase}`);
		expect(downloaded.status).toBe(200);
		expect(downloaded.body.equals(FILE)).toBe(true);
		const unknown = await request(`${server.url}/download/abacus-abacus-abacus-abacus`);
		expect(unknown.status).toBe(404);

		await scraped('raven_zero_files_shredded_total{cause="last_download"}', 1);
		await scraped('raven_zero_refusals_total{code="UNKNOWN_PASSPHRASE"}', 1);
		const values = Object.fromEntries(
			await Promise.all(
				[
					'raven_zero_uploads_total',
					'raven_zero_upload_bytes_total',
					'raven_zero_downloads_total',
					'raven_zero_download_bytes_total',
					'raven_zero_live_drops',
					'raven_zero_stored_bytes',
					'raven_zero_quota_used_drops',
					'raven_zero_quota_used_bytes',
					// one scrypt each: the drawn passphrase, the download, the unknown passphrase
					'raven_zero_kdf_run_seconds_count',
					'raven_zero_kdf_wait_seconds_count',
					'raven_zero_kdf_shed_total',
					'sum(raven_zero_refusals_total)',
					'raven_zero_store_up',
					'raven_zero_http_request_duration_seconds_count{route="/upload",method="POST",status_class="2xx"}',
					'raven_zero_http_request_duration_seconds_bucket{route="/download/[key]",method="GET",status_class="2xx",le="+Inf"}',
					'raven_zero_http_request_duration_seconds_count{route="/download/[key]",method="GET",status_class="4xx"}'
				].map(async (expr) => [expr, await prometheus.value(expr)] as const)
			)
		);
		expect(values).toEqual({
			raven_zero_uploads_total: 1,
			raven_zero_upload_bytes_total: FILE.length,
			raven_zero_downloads_total: 1,
			raven_zero_download_bytes_total: FILE.length,
			raven_zero_live_drops: 0,
			raven_zero_stored_bytes: 0,
			raven_zero_quota_used_drops: 0,
			raven_zero_quota_used_bytes: 0,
			raven_zero_kdf_run_seconds_count: 3,
			raven_zero_kdf_wait_seconds_count: 3,
			raven_zero_kdf_shed_total: 0,
			'sum(raven_zero_refusals_total)': 1,
			raven_zero_store_up: 1,
			'raven_zero_http_request_duration_seconds_count{route="/upload",method="POST",status_class="2xx"}': 1,
			'raven_zero_http_request_duration_seconds_bucket{route="/download/[key]",method="GET",status_class="2xx",le="+Inf"}': 1,
			'raven_zero_http_request_duration_seconds_count{route="/download/[key]",method="GET",status_class="4xx"}': 1
		});
		// The histogram's sum is real time, and a quantile comes out of its buckets.
		const uploadSeconds = await prometheus.value(
			'raven_zero_http_request_duration_seconds_sum{route="/upload",method="POST"}'
		);
		expect(uploadSeconds).toBeGreaterThan(0);
		expect(uploadSeconds).toBeLessThan(30);
		const p99 = await prometheus.value(
			'histogram_quantile(0.99, sum by (le) (raven_zero_http_request_duration_seconds_bucket{route="/upload"}))'
		);
		expect(p99).toBeGreaterThan(0);
		expect(await prometheus.value('raven_zero_disk_free_bytes')).toBeGreaterThan(0);
		expect(await prometheus.value('raven_zero_health_up{service="redis"}')).toBe(1);
		expect(await prometheus.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
	});

	test('a refusal answered by a page action is counted once, like one answered as JSON', async () => {
		const series = 'raven_zero_refusals_total{code="UNKNOWN_PASSPHRASE"}';
		const valueNow = async () => {
			const text = await (await fetch(metricsUrl, { headers: bearer(TOKEN) })).text();
			const line = text.split('\n').find((row) => row.startsWith(`${series} `));
			return Number(line?.slice(series.length + 1));
		};
		const before = await valueNow();
		const checked = await request(`${server.url}/r?/check`, {
			method: 'POST',
			from: '127.0.0.31',
			headers: {
				accept: 'text/html',
				origin: server.url,
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: 'passphrase=abacus-abdomen-abide-able'
		});
		expect(checked.status).toBe(404);
		expect(await valueNow()).toBe(before + 1);
	});

	test('promtool check metrics accepts the exposition, which carries no secret', async () => {
		const res = await fetch(metricsUrl, { headers: bearer(TOKEN) });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
		const text = await res.text();
		// Our own metrics pass promtool's lint with nothing to say.
		const ours = text
			.split('\n')
			.filter((line) => /^(# (HELP|TYPE) )?raven_zero_/.test(line))
			.join('\n');
		expect(ours).toContain('raven_zero_uploads_total');
		expect(promtool(['check', 'metrics'], `${ours}\n`)).toEqual({ code: 0, output: '' });
		// The whole exposition parses; prom-client's default metrics (its own names since
		// version 12) draw three naming complaints, and nothing else may.
		const whole = promtool(['check', 'metrics'], text);
		expect(whole.output.trim().split('\n').sort()).toEqual(
			['handles', 'requests', 'resources'].map(
				(what) => `nodejs_active_${what}_total non-counter metrics should not have "_total" suffix`
			)
		);

		expect(passphrase).toBeTruthy();
		// Single words of the passphrase are everyday English ("cut") and may stand in a HELP
		// text: a word is a leak only as a label value, where anything the client sent would go.
		const wordsAsLabels = passphrase.split('-').map((word) => `"${word}"`);
		for (const secret of [
			passphrase,
			passphrase.replaceAll('-', ' '),
			...wordsAsLabels,
			FILENAME,
			'127.0.0.1'
		]) {
			expect(text).not.toContain(secret);
		}
	});
});

describe('docs/monitoring against the same Prometheus', () => {
	test('the alert rules load, and none fires on a healthy server', async () => {
		const res = await fetch(`${prometheus.url}/api/v1/rules`);
		const body = (await res.json()) as {
			data: { groups: { rules: { name: string; health: string; state: string }[] }[] };
		};
		const rules = body.data.groups.flatMap((group) => group.rules);
		expect(rules.map(({ name }) => name)).toHaveLength(7);
		for (const rule of rules) expect(rule, rule.name).toMatchObject({ health: 'ok' });
		expect(await prometheus.query('ALERTS')).toEqual([]);
	});

	test.each(dashboardQueries())('dashboard panel "$panel" gets data: $expr', async ({ expr }) => {
		const result = await prometheus.query(expr);
		expect(result.length, expr).toBeGreaterThan(0);
	});
});

describe('the endpoint is off the public surface', () => {
	test('the main port answers /metrics only to the bearer of METRICS_TOKEN', async () => {
		const unknownPath = await request(`${server.url}/no-such-path`);
		for (const headers of [{}, bearer('wrong'), bearer(`${TOKEN}x`), { authorization: TOKEN }]) {
			const refused = await request(`${server.url}/metrics`, { headers });
			// The same 404 as any unknown path: nothing says that metrics exist here.
			expect(refused.status).toBe(404);
			expect(json(refused)).toEqual(json(unknownPath));
		}
		const served = await request(`${server.url}/metrics`, { headers: bearer(TOKEN) });
		expect(served.status).toBe(200);
		expect(served.body.toString()).toContain('raven_zero_uploads_total');
	});

	test('the metrics port wants the token too when it is set', async () => {
		expect((await fetch(metricsUrl)).status).toBe(404);
		expect((await fetch(metricsUrl, { headers: bearer('wrong') })).status).toBe(404);
		expect(
			(await fetch(metricsUrl.replace('/metrics', '/'), { headers: bearer(TOKEN) })).status
		).toBe(404);
	});

	test('a metrics port that cannot be had stops the start with one line saying so', async () => {
		const taken = new URL(metricsUrl).port;
		const { code, stderr } = await runServerExpectingFailure({ METRICS_PORT: taken });
		expect(code).toBe(1);
		expect(stderr.trim()).toBe(
			`raven-zero: cannot serve metrics on port ${taken} of 127.0.0.1: EADDRINUSE (set METRICS_PORT or METRICS_HOST)`
		);
	});

	test('a short METRICS_TOKEN is refused at start, without showing it', async () => {
		const { code, stderr } = await runServerExpectingFailure({ METRICS_TOKEN: 'hunter2' });
		expect(code).toBe(1);
		expect(stderr).toContain('Invalid value for METRICS_TOKEN: "(hidden)"');
		expect(stderr).not.toContain('hunter2');
	});

	test('with neither METRICS_PORT nor METRICS_TOKEN there is no endpoint at all', async () => {
		const plain = await startServer();
		try {
			const res = await request(`${plain.url}/metrics`, { headers: bearer(TOKEN) });
			expect(res.status).toBe(404);
			expect(plain.lines.some((line) => line.event === 'metrics_listening')).toBe(false);
		} finally {
			await plain.stop();
		}
	});
});
