/**
 * Debian's Prometheus and promtool for the tests (`apt-get install prometheus`; .ci/run
 * installs it when missing). Nothing here skips: without the binaries a test fails, saying
 * what to install, because CI always has them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, stopProcess, waitFor } from './processes.js';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** The alert rules, their unit test, the dashboard and the compose profile's configuration. */
export const MONITORING_DIR = path.resolve(import.meta.dirname, '../../docs/monitoring');

type Dashboard = { panels: { title: string; targets: { expr: string }[] }[] };

/** Every query of docs/monitoring/grafana-dashboard.json, with its panel's title. */
export function dashboardQueries(): { panel: string; expr: string }[] {
	const file = path.join(MONITORING_DIR, 'grafana-dashboard.json');
	const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
	return dashboard.panels.flatMap((panel) =>
		panel.targets.map(({ expr }) => ({ panel: panel.title, expr }))
	);
}

/** Fail (never skip) when Debian's prometheus package is not installed. */
export function requirePrometheus(): void {
	for (const binary of [PROMETHEUS, PROMTOOL]) {
		const found = spawnSync(binary, ['--version'], { encoding: 'utf8' });
		if (found.error || found.status !== 0) {
			throw new Error(`${binary} is missing: apt-get install -y prometheus (CI installs it)`);
		}
	}
}

/** Run promtool; resolves its exit code and output. */
export function promtool(args: string[], input?: string): { code: number | null; output: string } {
	const run = spawnSync(PROMTOOL, args, { input, encoding: 'utf8' });
	return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

export type PromSample = { metric: Record<string, string>; value: [number, string] };

export type TestPrometheus = {
	url: string;
	dir: string;
	/** An instant query; resolves the vector (or throws on an error answer). */
	query(expr: string): Promise<PromSample[]>;
	/** The single value of an instant query, or undefined when the vector is empty. */
	value(expr: string): Promise<number | undefined>;
	stop(): Promise<void>;
};

/**
 * Prometheus on a free port of 127.0.0.1 with this configuration (YAML; `dir` may hold the
 * files it names), its data in a temporary folder; resolves once it is ready.
 */
export async function startPrometheus(
	config: (dir: string) => string,
	files: Record<string, string> = {}
): Promise<TestPrometheus> {
	const dir = mkdtempSync(path.join(tmpdir(), 'raven-zero-prometheus-'));
	for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
	const configFile = path.join(dir, 'prometheus.yml');
	writeFileSync(configFile, config(dir));
	const port = await freePort();
	const output: string[] = [];
	const child = spawn(
		PROMETHEUS,
		[
			`--config.file=${configFile}`,
			`--storage.tsdb.path=${path.join(dir, 'data')}`,
			`--web.listen-address=127.0.0.1:${port}`,
			'--log.level=warn'
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] }
	);
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
	const url = `http://127.0.0.1:${port}`;
	await waitFor(
		async () => {
			if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join('')}`);
			return fetch(`${url}/-/ready`).then(
				(res) => res.ok,
				() => false
			);
		},
		30_000,
		'prometheus ready',
		100
	);

	async function query(expr: string): Promise<PromSample[]> {
		const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
		const body = (await res.json()) as {
			status: string;
			error?: string;
			data?: { resultType: string; result: PromSample[] };
		};
		if (body.status !== 'success' || !body.data) {
			throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
		}
		if (body.data.resultType !== 'vector') {
			throw new Error(`query ${expr} is a ${body.data.resultType}, not a vector`);
		}
		return body.data.result;
	}

	return {
		url,
		dir,
		query,
		async value(expr) {
			const result = await query(expr);
			if (result.length > 1) throw new Error(`query ${expr} has ${result.length} series`);
			return result[0] === undefined ? undefined : Number(result[0].value[1]);
		},
		async stop() {
			await stopProcess(child);
			rmSync(dir, { recursive: true, force: true });
		}
	};
}
