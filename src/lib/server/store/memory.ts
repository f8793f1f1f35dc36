/**
 * The in-process store: zero set-up, one instance only. Everything lives in this process's
 * memory and is lost on restart (files on disk without a record are then swept as orphans).
 */
import { randomUUID } from 'node:crypto';
import type { MetadataStore, StoreState } from './types';

type Entry = { value: string; expiresAt: number };

export class MemoryStore implements MetadataStore {
	readonly kind = 'memory';
	readonly #entries = new Map<string, Entry>();

	/** Read a live entry, dropping it when its time has passed (lazy expiry, like Redis). */
	#get(key: string): string | undefined {
		const entry = this.#entries.get(key);
		if (!entry) return undefined;
		if (entry.expiresAt <= Date.now()) {
			this.#entries.delete(key);
			return undefined;
		}
		return entry.value;
	}

	#set(key: string, value: string, ttlMs: number): void {
		this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
	}

	async ready(): Promise<boolean> {
		return true;
	}

	async ping(): Promise<StoreState> {
		return 'embedded';
	}

	async recordHeartbeat(name: string, at: number, ttlMs: number): Promise<void> {
		this.#set(`heartbeat:${name}`, String(at), ttlMs);
	}

	async readHeartbeat(name: string): Promise<number | undefined> {
		const value = this.#get(`heartbeat:${name}`);
		return value === undefined ? undefined : Number(value);
	}

	async acquireLock(name: string, ttlMs: number): Promise<string | undefined> {
		if (this.#get(`lock:${name}`) !== undefined) return undefined;
		const token = randomUUID();
		this.#set(`lock:${name}`, token, ttlMs);
		return token;
	}

	async releaseLock(name: string, token: string): Promise<void> {
		if (this.#get(`lock:${name}`) === token) this.#entries.delete(`lock:${name}`);
	}

	async close(): Promise<void> {
		this.#entries.clear();
	}
}
