// The offline outbox: records made on this phone wait here, with the id the phone chose for
// them, until the server has them. Files waiting to upload are kept here too (as Blobs), so an
// upload survives a reload or a closed app.

import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export type Resource = "incidents" | "impact-notes" | "police-reports";

export interface OutboxEntry {
  seq?: number;
  /** The account that made it: only that account's session ever sends it. */
  owner: string;
  op: "create" | "amend";
  resource: Resource;
  /** The record's id, chosen here (create) or the record being changed (amend). */
  id: string;
  body: Record<string, unknown>;
  queuedAt: string;
  state: "waiting" | "failed";
  error?: string;
  attempts: number;
}

export type UploadState = "hashing" | "waiting" | "paused" | "failed";

export interface UploadEntry {
  /** Chosen here; the evidence gets the id of the server's upload instead. */
  id: string;
  owner: string;
  /** The file itself; null when the phone had no room to keep a copy (it is then held in
   * memory only, and a reload loses it). */
  file: Blob | null;
  name: string;
  type: string;
  size: number;
  description: string;
  incidentIds: string[];
  sha256?: string;
  /** The tus upload's address once the server has made it: where to resume. */
  uploadUrl?: string;
  state: UploadState;
  error?: string;
  queuedAt: string;
}

interface Schema extends DBSchema {
  outbox: { key: number; value: OutboxEntry; indexes: { owner: string } };
  uploads: { key: string; value: UploadEntry; indexes: { owner: string } };
}

const NAME = "notes";
let opened: Promise<IDBPDatabase<Schema>> | null = null;

function database(): Promise<IDBPDatabase<Schema>> {
  opened ??= openDB<Schema>(NAME, 1, {
    upgrade(db) {
      const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      outbox.createIndex("owner", "owner");
      const uploads = db.createObjectStore("uploads", { keyPath: "id" });
      uploads.createIndex("owner", "owner");
    },
    terminated() {
      opened = null;
    },
  });
  return opened;
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Told whenever anything in the outbox changes (to redraw "waiting to send"). */
export function onOutboxChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  listeners.forEach((listener) => listener());
}

export async function queue(entry: Omit<OutboxEntry, "seq" | "queuedAt" | "state" | "attempts">): Promise<OutboxEntry> {
  const full: OutboxEntry = { ...entry, queuedAt: new Date().toISOString(), state: "waiting", attempts: 0 };
  full.seq = await (await database()).add("outbox", full);
  changed();
  return full;
}

/** This account's waiting records, oldest first (the order they must be sent in). */
export async function entries(owner: string): Promise<OutboxEntry[]> {
  const all = await (await database()).getAllFromIndex("outbox", "owner", owner);
  return all.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

export async function update(entry: OutboxEntry): Promise<void> {
  await (await database()).put("outbox", entry);
  changed();
}

export async function remove(seq: number): Promise<void> {
  await (await database()).delete("outbox", seq);
  changed();
}

export async function putUpload(entry: UploadEntry): Promise<void> {
  await (await database()).put("uploads", entry);
  changed();
}

export async function uploads(owner: string): Promise<UploadEntry[]> {
  const all = await (await database()).getAllFromIndex("uploads", "owner", owner);
  return all.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

export async function getUpload(id: string): Promise<UploadEntry | undefined> {
  return (await database()).get("uploads", id);
}

export async function removeUpload(id: string): Promise<void> {
  await (await database()).delete("uploads", id);
  changed();
}

/** Everything, for every account: on signing out nothing written here may stay behind. */
export async function clearOutbox(): Promise<void> {
  const db = await database();
  const tx = db.transaction(["outbox", "uploads"], "readwrite");
  await Promise.all([tx.objectStore("outbox").clear(), tx.objectStore("uploads").clear(), tx.done]);
  changed();
}

/** For tests: forget the open connection (fake-indexeddb is replaced between tests). */
export function closeOutbox(): void {
  void opened?.then((db) => db.close());
  opened = null;
}

/** A v4 UUID, from the browser's own random source. */
export function newId(): string {
  return crypto.randomUUID();
}
