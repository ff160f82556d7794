// What opens this phone's copy of an account: the session's proof (the server's second secret,
// sent with every request) and the key that seals what waits on the phone (the outbox, drafts,
// waiting files: their names and their contents). Both are forgotten on every sign-out, with or without a signal:
// the browser's cookie alone then opens nothing on the server, and what stays in IndexedDB is
// ciphertext. The key is AES-GCM, non-extractable, derived from the password at sign-in
// (PBKDF2 with a salt kept on this phone), so records left unsent by an automatic sign-out can
// be read again only after the same person signs in again.

import { openDB, type IDBPDatabase } from "idb";
import type { User } from "./types";

export interface Opened {
  user: User;
  proof: string;
  key: CryptoKey;
}

/** Ciphertext as stored: a fresh 96-bit IV for every seal. */
export interface Sealed {
  iv: Uint8Array;
  data: ArrayBuffer;
}

interface Held {
  id: "session";
  user: User;
  proof: string;
  key: CryptoKey;
}

interface LogoutOwed {
  id: typeof LOGOUT_ID;
  since: string;
}

interface Salt {
  id: "salt";
  salt: Uint8Array;
}

const NAME = "notes-keys";
const STORE = "keys";
const DRAFTS = "drafts";
const ITERATIONS = 310_000;
/** The row that says a sign-out has not reached the server yet (no account data in it). It is
 * kept here, not in localStorage, so the service worker can read it too (public/logout-sw.js). */
const LOGOUT_ID = "logout";

let opened: Promise<IDBPDatabase> | null = null;
let current: Opened | null = null;

function database(): Promise<IDBPDatabase> {
  opened ??= openDB(NAME, 1, {
    upgrade(db) {
      db.createObjectStore(STORE, { keyPath: "id" });
      db.createObjectStore(DRAFTS, { keyPath: "name" });
    },
    terminated() {
      opened = null;
    },
  });
  return opened;
}

async function phoneSalt(): Promise<Uint8Array> {
  const db = await database();
  const stored = (await db.get(STORE, "salt")) as Salt | undefined;
  if (stored) return stored.salt;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  await db.put(STORE, { id: "salt", salt } satisfies Salt);
  return salt;
}

/** The sealing key for this person on this phone: the same after every sign-in. */
export async function deriveKey(password: string, userId: string, salt: Uint8Array): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(`${userId}\n${password}`), "PBKDF2", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations: ITERATIONS },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** After a sign-in: keep the proof and the key (until sign-out). */
export async function openVault(user: User, proof: string, password: string): Promise<Opened> {
  const key = await deriveKey(password, user.id, await phoneSalt());
  const held: Held = { id: "session", user: { ...user, email: "" }, proof, key };
  current = { user: held.user, proof, key };
  await (await database()).put(STORE, held);
  return current;
}

/** The vault this phone holds, if someone is signed in here. */
export async function loadVault(): Promise<Opened | null> {
  if (current) return current;
  try {
    const held = (await (await database()).get(STORE, "session")) as Held | undefined;
    if (held?.proof && held.key) current = { user: held.user, proof: held.proof, key: held.key };
  } catch {
    /* storage refused: nobody is signed in here */
  }
  return current;
}

/** The proof, for the Session-Proof header (null when signed out). */
export function proof(): string | null {
  return current?.proof ?? null;
}

export function vaultOpen(): boolean {
  return current !== null;
}

/**
 * Forget the proof and the key. In memory at once (so no request carries the proof after this
 * call returns), then on disk. With `oweLogout` the same transaction records that the server
 * must still be told, so no crash in between can forget the key but not the debt. The salt
 * stays: it is not secret and opens nothing alone.
 */
export async function closeVault(options: { oweLogout?: boolean } = {}): Promise<void> {
  current = null;
  try {
    const tx = (await database()).transaction(STORE, "readwrite");
    const keys = tx.objectStore(STORE);
    const owed: LogoutOwed = { id: LOGOUT_ID, since: new Date().toISOString() };
    await Promise.all([keys.delete("session"), options.oweLogout ? keys.put(owed) : null, tx.done]);
  } catch {
    /* nothing stored, or storage refused: the proof, in memory only, is gone all the same */
  }
}

export async function seal(value: unknown): Promise<Sealed> {
  if (!current) throw new Error("Signed out");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv as BufferSource }, current.key, new TextEncoder().encode(JSON.stringify(value)));
  return { iv, data };
}

/** Raw bytes (a piece of a waiting file), sealed the same way. */
export async function sealBytes(bytes: BufferSource): Promise<Sealed> {
  if (!current) throw new Error("Signed out");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv as BufferSource }, current.key, bytes) };
}

/** The bytes, or null when they cannot be opened with this key. */
export async function unsealBytes(sealed: Sealed): Promise<ArrayBuffer | null> {
  if (!current) return null;
  try {
    return await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as BufferSource }, current.key, sealed.data);
  } catch {
    return null;
  }
}

/** The value, or null when it cannot be opened with this key (someone else's, or tampered). */
export async function unseal<T>(sealed: Sealed): Promise<T | null> {
  if (!current) return null;
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as BufferSource }, current.key, sealed.data);
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  } catch {
    return null;
  }
}

/** A form as it was being typed, sealed (restored after Back, a reload or a crash). */
export async function saveDraft(name: string, value: unknown): Promise<void> {
  if (!current) return;
  try {
    await (await database()).put(DRAFTS, { name, owner: current.user.id, sealed: await seal(value) });
  } catch {
    /* no room: the draft is simply not kept */
  }
}

export async function loadDraft<T>(name: string): Promise<T | null> {
  if (!current) return null;
  try {
    const stored = (await (await database()).get(DRAFTS, name)) as { owner: string; sealed: Sealed } | undefined;
    return stored && stored.owner === current.user.id ? unseal<T>(stored.sealed) : null;
  } catch {
    return null;
  }
}

export async function dropDraft(name: string): Promise<void> {
  try {
    await (await database()).delete(DRAFTS, name);
  } catch {
    /* nothing kept */
  }
}

/** Every draft of every account (a chosen sign-out). */
export async function dropDrafts(): Promise<void> {
  try {
    await (await database()).clear(DRAFTS);
  } catch {
    /* nothing kept */
  }
}

/** Whether a sign-out has not reached the server yet (it is sent before anything else). */
export async function logoutOwed(): Promise<boolean> {
  try {
    return (await (await database()).get(STORE, LOGOUT_ID)) !== undefined;
  } catch {
    return false;
  }
}

export async function owesLogout(owed: boolean): Promise<void> {
  try {
    const db = await database();
    if (owed) await db.put(STORE, { id: LOGOUT_ID, since: new Date().toISOString() } satisfies LogoutOwed);
    else await db.delete(STORE, LOGOUT_ID);
  } catch {
    /* storage refused: the session still needs the proof, which is gone */
  }
}

/** For tests: use a key without storing anything. */
export function useVaultForTests(opened: Opened | null): void {
  current = opened;
}

/** For tests: forget the open connection (fake-indexeddb is replaced between tests). */
export function closeVaultDatabase(): void {
  void opened?.then((db) => db.close());
  opened = null;
}
