// The offline outbox: records made on this phone wait here, with the id the phone chose for
// them, until the server has them. Files waiting to upload are kept here too, so an upload
// survives a reload or a closed app. Everything a person wrote or chose (a record's fields, why
// it was refused, a file's name and description, and the file itself, in sealed 4 MiB pieces)
// is sealed with the vault's key before it is stored, so IndexedDB holds only ciphertext of it;
// without the key (after sign-out) an entry cannot be read and is not shown.

import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import { seal, sealBytes, unseal, unsealBytes, type Sealed } from "./vault";

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
  /** How many sealed pieces of the file are stored (lib/uploads.ts seals them while hashing);
   * absent until then, and when the phone had no room for them (the file is then held in
   * memory only, and a reload loses it). */
  pieces?: number;
  name: string;
  type: string;
  size: number;
  description: string;
  incidentIds: string[];
  sha256?: string;
  /** The tus upload's address once the server has made it: where to resume. */
  uploadUrl?: string;
  /** Bytes the server said it holds (its Upload-Offset), as last heard: what progress shows. */
  onServer?: number;
  state: UploadState;
  error?: string;
  queuedAt: string;
}

/** As stored: the written parts sealed. */
type StoredOutbox = Omit<OutboxEntry, "body" | "error"> & { sealed: Sealed };
type StoredUpload = Omit<UploadEntry, "name" | "description" | "error"> & { sealed: Sealed };

/** The size of a sealed piece of a file: the same as a tus chunk, so sending one chunk opens
 * one piece (or two, after resuming from an offset inside a piece). */
export const PIECE_SIZE = 4 * 1024 * 1024;

type PieceKey = [string, number];

interface Schema extends DBSchema {
  outbox: { key: number; value: StoredOutbox; indexes: { owner: string } };
  uploads: { key: string; value: StoredUpload; indexes: { owner: string } };
  /** A waiting file's contents: [upload id, piece number] → sealed bytes. */
  pieces: { key: PieceKey; value: Sealed };
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
  opened ??= openDB<Schema>(NAME, 2, {
    async upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("owner", "owner");
        const uploads = db.createObjectStore("uploads", { keyPath: "id" });
        uploads.createIndex("owner", "owner");
      }
      if (oldVersion < 2) {
        db.createObjectStore("pieces");
        // Version 1 kept waiting files as they were: that copy goes (there is no key here to
        // seal it with), and the file is asked for again.
        for (let cursor = await tx.objectStore("uploads").openCursor(); cursor; cursor = await cursor.continue()) {
          const { file: _plain, ...rest } = cursor.value as StoredUpload & { file?: unknown };
          if (_plain !== undefined) await cursor.update(rest);
        }
      }
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
  const db = await database();
  const tx = db.transaction(["uploads", "pieces"], "readwrite");
  await Promise.all([tx.objectStore("uploads").delete(id), tx.objectStore("pieces").delete(piecesOf(id)), tx.done]);
  changed();
}

/** Record what the server confirmed, in one transaction on the stored row (nothing sealed is
 * touched), so it can never write an older state over a pause made meanwhile. */
export async function setOnServer(id: string, bytes: number): Promise<void> {
  const tx = (await database()).transaction("uploads", "readwrite");
  const stored = await tx.store.get(id);
  if (stored) await tx.store.put({ ...stored, onServer: bytes });
  await tx.done;
}

const piecesOf = (id: string) => IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);

/** Seal one piece of a waiting file and store it. */
export async function putPiece(id: string, index: number, bytes: ArrayBuffer): Promise<void> {
  const sealed = await sealBytes(bytes);
  await (await database()).put("pieces", sealed, [id, index]);
}

/** One piece of a waiting file, opened; null when it is missing or will not open. */
export async function getPiece(id: string, index: number): Promise<ArrayBuffer | null> {
  const sealed = await (await database()).get("pieces", [id, index]);
  return sealed ? unsealBytes(sealed) : null;
}

/** Forget a waiting file's pieces (it is held in memory instead, or sealed again). */
export async function removePieces(id: string): Promise<void> {
  await (await database()).delete("pieces", piecesOf(id));
}

/** Everything, for every account: on signing out nothing written here may stay behind. */
export async function clearOutbox(): Promise<void> {
  const db = await database();
  const tx = db.transaction(["outbox", "uploads", "pieces"], "readwrite");
  await Promise.all([tx.objectStore("outbox").clear(), tx.objectStore("uploads").clear(), tx.objectStore("pieces").clear(), tx.done]);
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
