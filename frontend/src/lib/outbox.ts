// The offline outbox: records made on this phone wait here, with the id the phone chose for
// them, until the server has them. Files waiting to upload are kept here too (as Blobs), so an
// upload survives a reload or a closed app. Everything a person wrote (a record's fields, why it
// was refused, a file's name and description) is sealed with the vault's key before it is
// stored, so IndexedDB holds only ciphertext of it; without the key (after sign-out) an entry
// cannot be read and is not shown.

import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import { seal, unseal, type Sealed } from "./vault";

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

/** As stored: the written parts sealed. */
type StoredOutbox = Omit<OutboxEntry, "body" | "error"> & { sealed: Sealed };
type StoredUpload = Omit<UploadEntry, "name" | "description" | "error"> & { sealed: Sealed };

interface Schema extends DBSchema {
  outbox: { key: number; value: StoredOutbox; indexes: { owner: string } };
  uploads: { key: string; value: StoredUpload; indexes: { owner: string } };
}

async function sealEntry(entry: OutboxEntry): Promise<StoredOutbox> {
  const { body, error, ...rest } = entry;
  return { ...rest, sealed: await seal({ body, error }) };
}

async function openEntry(stored: StoredOutbox): Promise<OutboxEntry | null> {
  const { sealed, ...rest } = stored;
  const inside = await unseal<{ body: Record<string, unknown>; error?: string }>(sealed);
  return inside ? { ...rest, body: inside.body, ...(inside.error ? { error: inside.error } : {}) } : null;
}

async function sealUpload(entry: UploadEntry): Promise<StoredUpload> {
  const { name, description, error, ...rest } = entry;
  return { ...rest, sealed: await seal({ name, description, error }) };
}

async function openUpload(stored: StoredUpload | undefined): Promise<UploadEntry | undefined> {
  if (!stored) return undefined;
  const { sealed, ...rest } = stored;
  const inside = await unseal<{ name: string; description: string; error?: string }>(sealed);
  return inside ? { ...rest, name: inside.name, description: inside.description, ...(inside.error ? { error: inside.error } : {}) } : undefined;
}

const present = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

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
  full.seq = await (await database()).add("outbox", await sealEntry(full));
  changed();
  return full;
}

/** This account's waiting records, oldest first (the order they must be sent in). */
export async function entries(owner: string): Promise<OutboxEntry[]> {
  const all = await (await database()).getAllFromIndex("outbox", "owner", owner);
  const opened = (await Promise.all(all.map(openEntry))).filter(present);
  return opened.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

export async function update(entry: OutboxEntry): Promise<void> {
  await (await database()).put("outbox", await sealEntry(entry));
  changed();
}

export async function remove(seq: number): Promise<void> {
  await (await database()).delete("outbox", seq);
  changed();
}

export async function putUpload(entry: UploadEntry): Promise<void> {
  await (await database()).put("uploads", await sealUpload(entry));
  changed();
}

export async function uploads(owner: string): Promise<UploadEntry[]> {
  const all = await (await database()).getAllFromIndex("uploads", "owner", owner);
  const opened = (await Promise.all(all.map(openUpload))).filter(present);
  return opened.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

export async function getUpload(id: string): Promise<UploadEntry | undefined> {
  return openUpload(await (await database()).get("uploads", id));
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
