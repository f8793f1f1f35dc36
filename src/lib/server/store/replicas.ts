/**
 * Sentinel only: how many replicas a write must reach before the service may promise it.
 *
 * Replication is asynchronous, and a failover promotes a replica: a write the old primary took
 * but had not yet passed on is thrown away when the old primary resyncs from the new one. So
 * a write whose answer promises that it lasts (an upload's record: a 201) is followed by
 * `WAIT <expected> <timeout>`, and is promised only when that many replicas acknowledged it.
 *
 * What "expected" must be is the subtle part. The primary's own count of connected replicas at
 * the time is not enough: a planned failover (SENTINEL FAILOVER) first detaches the replica it
 * promotes, so for about a second the old primary still takes writes with no replica at all,
 * and `WAIT 0` would answer at once (the known loss this replaces). So the count a node has
 * shown (ROLE) only ever raises the expectation for that node; it is lowered only when the
 * sentinels, asked after a write missed its acknowledgements, confirm that this node is still
 * their primary and that fewer replicas are up (flags without `s_down`, `o_down`,
 * `disconnected`): a replica that died stops blocking uploads within about a second, while a
 * replica being promoted is still up in the sentinels' eyes and keeps blocking them. When the
 * sentinels name another primary, the client is made to reconnect to it (`onDeposed`). A node
 * never seen before (the new primary after a failover) starts from its own count: after a
 * SIGKILLed primary that is no replica, so uploads resume as soon as the sentinels name it.
 */
import { Redis } from 'ioredis';

/** How long an upload's commit waits for the replicas' acknowledgement. */
export const WAIT_TIMEOUT_MS = 500;
/** The sentinels are asked at most this often (only after a write missed its acknowledgements). */
const RECHECK_INTERVAL_MS = 500;
const SENTINEL_TIMEOUT_MS = 1_000;

type HostPort = { readonly host: string; readonly port: number };

/** `host:port` as both a socket and the sentinels name a node (IPv4-mapped IPv6 unwrapped). */
export function nodeName(host: string | undefined, port: number | undefined): string {
	return `${(host ?? '').replace(/^::ffff:/, '')}:${String(port ?? 0)}`;
}

export class ReplicaExpectation {
	readonly #expected = new Map<string, number>();
	readonly #sentinels: readonly HostPort[];
	readonly #name: string;
	readonly #onDeposed: (node: string) => void;
	#checking = false;
	#lastCheck = 0;

	constructor(sentinels: readonly HostPort[], name: string, onDeposed: (node: string) => void) {
		this.#sentinels = sentinels;
		this.#name = name;
		this.#onDeposed = onDeposed;
	}

	/** How many replicas a write on `node` must reach before it is promised. */
	expected(node: string): number {
		return this.#expected.get(node) ?? 0;
	}

	/** `node` showed `connected` replicas (ROLE): the expectation only rises from this. */
	observe(node: string, connected: number): void {
		this.#expected.set(node, Math.max(this.expected(node), connected));
	}

	/**
	 * A write on `node` missed its acknowledgements (the node showed `connected` replicas
	 * then): ask the sentinels, in the background and at most every RECHECK_INTERVAL_MS,
	 * whether fewer replicas are up now, or whether another node is the primary.
	 */
	recheck(node: string, connected: number): void {
		const now = Date.now();
		if (this.#checking || now - this.#lastCheck < RECHECK_INTERVAL_MS) return;
		this.#checking = true;
		this.#lastCheck = now;
		void this.#askSentinels()
			.then((view) => {
				if (!view) return; // no sentinel answered: keep expecting what we expected
				if (view.primary !== node) {
					this.#onDeposed(node);
					return;
				}
				this.#expected.set(node, Math.max(connected, view.replicasUp));
			})
			.finally(() => {
				this.#checking = false;
			});
	}

	/** The first sentinel's answer: who the primary is and how many of its replicas are up. */
	async #askSentinels(): Promise<{ primary: string; replicasUp: number } | undefined> {
		for (const { host, port } of this.#sentinels) {
			const sentinel = new Redis({
				host,
				port,
				lazyConnect: true,
				maxRetriesPerRequest: 0,
				retryStrategy: () => null,
				enableReadyCheck: false,
				connectTimeout: SENTINEL_TIMEOUT_MS,
				commandTimeout: SENTINEL_TIMEOUT_MS
			});
			sentinel.on('error', () => undefined);
			try {
				await sentinel.connect();
				const address = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.#name)) as
					[string, string] | null;
				const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', this.#name)) as string[][];
				if (!address) continue;
				const replicasUp = replicas.filter((fields) => {
					const at = fields.indexOf('flags');
					return at >= 0 && !/s_down|o_down|disconnected/.test(fields[at + 1] ?? '');
				}).length;
				return { primary: nodeName(address[0], Number(address[1])), replicasUp };
			} catch {
				// ask the next sentinel
			} finally {
				sentinel.disconnect();
			}
		}
		return undefined;
	}
}
