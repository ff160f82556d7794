/// <reference types="node" />
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { IDBFactory } from "fake-indexeddb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { payLogout } from "./logout";
import { clearOutbox, closeOutbox, entries, queue } from "./outbox";
import { closeVault, closeVaultDatabase, dropDrafts, loadDraft, logoutOwed, owesLogout, proof, saveDraft, useVaultForTests } from "./vault";

/** A real HTTP server standing in for the API: it answers each request with the next status. */
class FakeServer {
  readonly seen: string[] = [];
  answers: number[] = [];
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.seen.push(`${request.method} ${request.url}`);
      response.statusCode = this.answers.shift() ?? 204;
      response.end();
    });
    await new Promise<void>((done) => this.server!.listen(0, "127.0.0.1", done));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
  }
}

/** Every row of the vault's own database, as stored. */
async function keyRows(): Promise<{ id: string }[]> {
  const request = indexedDB.open("notes-keys");
  const db = await new Promise<IDBDatabase>((done) => (request.onsuccess = () => done(request.result)));
  const rows = await new Promise<{ id: string }[]>((done) => {
    const all = db.transaction("keys").objectStore("keys").getAll();
    all.onsuccess = () => done(all.result as { id: string }[]);
  });
  db.close();
  return rows;
}

let server: FakeServer;
let origin: string;

beforeEach(async () => {
  closeOutbox();
  closeVaultDatabase();
  globalThis.indexedDB = new IDBFactory();
  server = new FakeServer();
  origin = await server.start();
});

afterEach(() => server.stop());

describe("signing out with no signal", () => {
  it("forgets the proof at once and records the debt in the same write", async () => {
    await owesLogout(false);
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    useVaultForTests({ user: { id: "sam" } as never, proof: "secret-proof", key });
    const closing = closeVault({ oweLogout: true });
    // Gone before the disk is even written: no request after this carries it.
    expect(proof()).toBeNull();
    await closing;
    expect((await keyRows()).map((row) => row.id)).toEqual(["logout"]);
    expect(await logoutOwed()).toBe(true);
  });

  it("leaves nothing of a chosen sign-out's account to read", async () => {
    await queue({ owner: "sam", op: "create", resource: "incidents", id: "a", body: { description: "x" } });
    await saveDraft("new-incident", { description: "half typed" });
    await closeVault({ oweLogout: true });
    await clearOutbox();
    await dropDrafts();
    expect(await entries("sam")).toEqual([]);
    expect(await loadDraft("new-incident")).toBeNull();
    expect((await keyRows()).map((row) => row.id)).toEqual(["logout"]);
  });
});

describe("paying the sign-out", () => {
  it("is sent first when the server answers, and is then no longer owed", async () => {
    await owesLogout(true);
    expect(await payLogout(origin)).toBe(true);
    expect(server.seen).toEqual(["POST /api/v1/auth/logout"]);
    expect(await logoutOwed()).toBe(false);
  });

  it("stays owed while there is no signal, and is paid when it returns", async () => {
    await owesLogout(true);
    await server.stop();
    expect(await payLogout(origin)).toBe(false);
    expect(await logoutOwed()).toBe(true);

    server = new FakeServer();
    const back = await server.start();
    expect(await payLogout(back)).toBe(true);
    expect(await logoutOwed()).toBe(false);
  });

  it("stays owed when the server fails, and counts a 401 (session already gone) as paid", async () => {
    await owesLogout(true);
    server.answers = [503, 401];
    expect(await payLogout(origin)).toBe(false);
    expect(await logoutOwed()).toBe(true);
    expect(await payLogout(origin)).toBe(true);
    expect(await logoutOwed()).toBe(false);
    expect(server.seen).toHaveLength(2);
  });

  it("sends nothing when nothing is owed", async () => {
    expect(await payLogout(origin)).toBe(true);
    expect(server.seen).toEqual([]);
  });
});
