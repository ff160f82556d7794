import { IDBFactory } from "fake-indexeddb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeOutbox, getUpload, PIECE_SIZE, putPiece, uploads } from "./outbox";
import { bytesOfPieces, UnreadableFile } from "./pieces";
import { addFiles, startUploads, stopUploads } from "./uploads";
import { seal, useVaultForTests } from "./vault";

const PHRASE = "FRONT-DOOR-CAMERA-21-NOV ";

/** A file of about 9 MiB (three pieces), every byte of it readable text. */
function evidenceFile(): File {
  const text = PHRASE.repeat(Math.ceil((2 * PIECE_SIZE + 12345) / PHRASE.length));
  return new File([text], "doorbell.mp4", { type: "video/mp4" });
}

/** Blobs read out (a Blob kept as it was chosen would hold the file in clear). */
async function withBlobsRead(value: unknown): Promise<unknown> {
  if (value instanceof Blob) return new TextDecoder().decode(await value.arrayBuffer());
  if (Array.isArray(value)) return Promise.all(value.map(withBlobsRead));
  if (value && typeof value === "object" && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value))
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await withBlobsRead(v)])));
  return value;
}

/** Every row of the outbox's database as stored, binary values decoded as text. */
async function rawText(): Promise<string> {
  const request = indexedDB.open("notes");
  const db = await new Promise<IDBDatabase>((done) => (request.onsuccess = () => done(request.result)));
  const parts: string[] = [];
  for (const store of Array.from(db.objectStoreNames)) {
    const rows = await new Promise<unknown[]>((done) => {
      const all = db.transaction(store).objectStore(store).getAll();
      all.onsuccess = () => done(all.result as unknown[]);
    });
    parts.push(
      JSON.stringify(await withBlobsRead(rows), (_, value: unknown) =>
        value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? new TextDecoder().decode(value as ArrayBuffer) : value,
      ),
    );
  }
  db.close();
  return parts.join("\n");
}

async function waitUntilSealed(): Promise<string> {
  for (;;) {
    const [entry] = await uploads("sam");
    if (entry?.state === "waiting") return entry.id;
    if (entry?.state === "failed") throw new Error(entry.error);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeEach(() => {
  closeOutbox();
  globalThis.indexedDB = new IDBFactory();
  // Offline: the queue seals and hashes, then waits for a signal (Node 20 has no navigator).
  Object.defineProperty(globalThis, "navigator", { value: { onLine: false }, configurable: true });
});

afterEach(() => stopUploads());

describe("a file waiting to upload", () => {
  it("is stored sealed: neither its bytes nor its name can be read in IndexedDB", async () => {
    const file = evidenceFile();
    startUploads("sam", async () => true);
    await addFiles([file], { description: "From the neighbour", incidentIds: [] });
    const id = await waitUntilSealed();

    const stored = await rawText();
    expect(stored.length).toBeGreaterThan(file.size); // the pieces are there…
    expect(stored).not.toContain("FRONT-DOOR"); // …but not one phrase of the file
    expect(stored).not.toMatch(/doorbell|neighbour/);
    expect((await getUpload(id))?.pieces).toBe(3);
  });

  it("opens again piece by piece, from any offset, exactly as chosen", async () => {
    const file = evidenceFile();
    const original = new Uint8Array(await file.arrayBuffer());
    startUploads("sam", async () => true);
    await addFiles([file], { description: "", incidentIds: [] });
    const id = await waitUntilSealed();

    const read = bytesOfPieces(id, file.size);
    // Across a piece boundary (tus resumes from wherever the server stopped).
    const across = await read.read(PIECE_SIZE - 7, PIECE_SIZE + 9);
    expect(across).toEqual(original.subarray(PIECE_SIZE - 7, PIECE_SIZE + 9));
    const tail = await read.read(2 * PIECE_SIZE, file.size + 100);
    expect(tail).toEqual(original.subarray(2 * PIECE_SIZE));
  });

  it("cannot be opened with another key, nor once a piece is missing", async () => {
    await putPiece("u1", 0, new TextEncoder().encode("hello").buffer as ArrayBuffer);
    expect(new TextDecoder().decode(await bytesOfPieces("u1", 5).read(0, 5))).toBe("hello");
    await expect(bytesOfPieces("u1", 10, 5).read(0, 10)).rejects.toBeInstanceOf(UnreadableFile);
    const other = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    useVaultForTests({ user: { id: "sam" } as never, proof: "p", key: other });
    await expect(bytesOfPieces("u1", 5).read(0, 5)).rejects.toBeInstanceOf(UnreadableFile);
  });
});

describe("a phone that kept waiting files in clear (the outbox's first version)", () => {
  it("drops the plain copy on upgrade, keeps the entry, and asks for the file again", async () => {
    const sealed = await seal({ name: "door.mp4", description: "" });
    const old = indexedDB.open("notes", 1);
    old.onupgradeneeded = () => {
      const db = old.result;
      db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true }).createIndex("owner", "owner");
      db.createObjectStore("uploads", { keyPath: "id" }).createIndex("owner", "owner");
    };
    const db = await new Promise<IDBDatabase>((done) => (old.onsuccess = () => done(old.result)));
    await new Promise<void>((done) => {
      const tx = db.transaction("uploads", "readwrite");
      tx.objectStore("uploads").put({ id: "u1", owner: "sam", file: new TextEncoder().encode(PHRASE), size: PHRASE.length, state: "waiting", sealed, queuedAt: "" });
      tx.oncomplete = () => done();
    });
    db.close();

    const kept = await getUpload("u1"); // opens (and upgrades) the database
    expect(kept).toMatchObject({ name: "door.mp4", state: "waiting" });
    expect(kept?.pieces).toBeUndefined(); // so the upload asks for the file again
    const stored = await rawText();
    expect(stored).not.toContain("FRONT-DOOR");
    expect(stored).toContain('"id":"u1"');
  });
});
