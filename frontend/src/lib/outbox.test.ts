import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";
import { clearOutbox, closeOutbox, entries, getUpload, newId, onOutboxChange, putUpload, queue, remove, update, uploads } from "./outbox";
import { useVaultForTests } from "./vault";

beforeEach(() => {
  closeOutbox();
  globalThis.indexedDB = new IDBFactory();
});

const incident = (owner = "sam") => ({
  owner,
  op: "create" as const,
  resource: "incidents" as const,
  id: newId(),
  body: { occurred_at: "2026-11-21T22:40:00+00:00", behaviours: ["watching"] },
});

describe("the outbox", () => {
  it("keeps records in the order they were made", async () => {
    const first = await queue(incident());
    const second = await queue({ ...incident(), resource: "impact-notes" });
    const third = await queue(incident());
    expect((await entries("sam")).map((e) => e.id)).toEqual([first.id, second.id, third.id]);
  });

  it("marks new records as waiting, with no attempts yet", async () => {
    const entry = await queue(incident());
    expect(entry).toMatchObject({ state: "waiting", attempts: 0 });
    expect(entry.seq).toBeTypeOf("number");
    expect(Date.parse(entry.queuedAt)).not.toBeNaN();
  });

  it("shows each account only its own records", async () => {
    await queue(incident("sam"));
    await queue(incident("alex"));
    expect(await entries("sam")).toHaveLength(1);
    expect(await entries("alex")).toHaveLength(1);
    expect(await entries("nobody")).toHaveLength(0);
  });

  it("updates and removes records", async () => {
    const entry = await queue(incident());
    await update({ ...entry, state: "failed", error: "No." });
    expect((await entries("sam"))[0]).toMatchObject({ state: "failed", error: "No." });
    await remove(entry.seq!);
    expect(await entries("sam")).toEqual([]);
  });

  it("keeps files waiting to upload", async () => {
    await putUpload({
      id: "u1",
      owner: "sam",
      pieces: 1,
      name: "door.jpg",
      type: "image/jpeg",
      size: 10,
      description: "",
      incidentIds: [],
      state: "hashing",
      queuedAt: new Date().toISOString(),
    });
    const kept = await getUpload("u1");
    expect(kept?.name).toBe("door.jpg");
    expect(await uploads("sam")).toHaveLength(1);
    expect(await uploads("alex")).toHaveLength(0);
  });

  it("is emptied completely on sign-out, for every account", async () => {
    await queue(incident("sam"));
    await queue(incident("alex"));
    await putUpload({
      id: "u1",
      owner: "sam",
      pieces: 1,
      name: "x",
      type: "",
      size: 1,
      description: "",
      incidentIds: [],
      state: "waiting",
      queuedAt: new Date().toISOString(),
    });
    await clearOutbox();
    expect(await entries("sam")).toEqual([]);
    expect(await entries("alex")).toEqual([]);
    expect(await uploads("sam")).toEqual([]);
  });

  it("says when it changes", async () => {
    let told = 0;
    const stop = onOutboxChange(() => (told += 1));
    const entry = await queue(incident());
    await remove(entry.seq!);
    stop();
    await queue(incident());
    expect(told).toBe(2);
  });

  it("makes version 4 UUIDs for new records", () => {
    const id = newId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newId()).not.toBe(id);
  });
});

describe("what the outbox stores", () => {
  async function raw(): Promise<unknown[]> {
    const request = indexedDB.open("notes");
    const db = await new Promise<IDBDatabase>((done) => (request.onsuccess = () => done(request.result)));
    const read = (store: string) =>
      new Promise<unknown[]>((done) => {
        const all = db.transaction(store).objectStore(store).getAll();
        all.onsuccess = () => done(all.result as unknown[]);
      });
    const rows = [...(await read("outbox")), ...(await read("uploads"))];
    db.close();
    return rows;
  }

  const text = (rows: unknown[]) =>
    JSON.stringify(rows, (_, value: unknown) => (value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? new TextDecoder().decode(value as ArrayBuffer) : value));

  it("is ciphertext: no word of a record or a file's name can be read", async () => {
    await queue({ ...incident(), body: { description: "He waited outside the library again" } });
    await putUpload({
      id: newId(),
      owner: "sam",
      name: "doorbell-camera.mp4",
      type: "video/mp4",
      size: 10,
      description: "From the neighbour's camera",
      incidentIds: [],
      state: "waiting",
      queuedAt: new Date().toISOString(),
    });
    const stored = text(await raw());
    expect(stored).not.toMatch(/library|doorbell|neighbour|description/);
    expect((await entries("sam"))[0].body.description).toBe("He waited outside the library again");
    expect((await uploads("sam"))[0].name).toBe("doorbell-camera.mp4");
  });

  it("cannot be read with another key, or with none (after sign-out)", async () => {
    await queue(incident());
    const other = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    useVaultForTests({ user: { id: "sam" } as never, proof: "p", key: other });
    expect(await entries("sam")).toEqual([]);
    useVaultForTests(null);
    expect(await entries("sam")).toEqual([]);
  });
});
