import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";
import { ApiError, OfflineError } from "./api";
import { closeOutbox, entries, newId, queue } from "./outbox";
import { syncNow, syncOnce, type Sender } from "./sync";

beforeEach(() => {
  closeOutbox();
  globalThis.indexedDB = new IDBFactory();
});

/** A stand-in for the API's idempotent creates: same id and content → 200, different → 409. */
class FakeServer {
  records = new Map<string, Record<string, unknown>>();
  requests: [string, string][] = [];
  offline = false;
  loseNextReply = false;
  status: number | null = null;

  send: Sender = async (method, path, body) => {
    if (this.offline) throw new OfflineError();
    this.requests.push([method, path]);
    if (this.status) throw new ApiError(this.status, { title: "No", detail: "Refused." });
    const data = body as Record<string, unknown>;
    let status: number;
    if (method === "POST") {
      if ((data.behaviours as string[] | undefined)?.length === 0)
        throw new ApiError(422, { detail: "Check the fields", errors: [{ loc: ["body", "behaviours"], msg: "List should have at least 1 item" }] });
      const id = String(data.id);
      const existing = this.records.get(id);
      if (existing && JSON.stringify(existing) !== JSON.stringify(data)) throw new ApiError(409, { detail: "Conflict" });
      status = existing ? 200 : 201;
      this.records.set(id, data);
    } else {
      const id = path.split("/").pop()!;
      const existing = this.records.get(id);
      if (!existing) throw new ApiError(404, { detail: "No such record." });
      this.records.set(id, { ...existing, ...data });
      status = 200;
    }
    if (this.loseNextReply) {
      this.loseNextReply = false;
      throw new OfflineError(); // saved, but the answer never arrived
    }
    return { status };
  };
}

const incident = (description: string, owner = "sam") => ({
  owner,
  op: "create" as const,
  resource: "incidents" as const,
  id: newId(),
  body: { occurred_at: "2026-11-21T22:40:00+00:00", behaviours: ["watching"], description },
});

describe("sending the outbox", () => {
  it("sends each waiting record with its own id and empties the outbox", async () => {
    const server = new FakeServer();
    const one = await queue(incident("car outside"));
    const two = await queue({ ...incident("cannot sleep"), resource: "impact-notes" });
    const outcome = await syncOnce("sam", server.send);
    expect(outcome).toEqual({ sent: 2, failed: 0, stopped: null });
    expect(server.requests).toEqual([
      ["POST", "/incidents"],
      ["POST", "/impact-notes"],
    ]);
    expect(server.records.get(one.id)).toMatchObject({ id: one.id, description: "car outside" });
    expect(server.records.has(two.id)).toBe(true);
    expect(await entries("sam")).toEqual([]);
  });

  it("keeps everything while offline and sends it once the connection returns", async () => {
    const server = new FakeServer();
    server.offline = true;
    await queue(incident("first"));
    await queue(incident("second"));
    expect(await syncOnce("sam", server.send)).toMatchObject({ sent: 0, stopped: "offline" });
    expect(await entries("sam")).toHaveLength(2);
    server.offline = false;
    expect(await syncOnce("sam", server.send)).toMatchObject({ sent: 2, stopped: null });
    expect(server.records.size).toBe(2);
  });

  it("saves a record exactly once when the reply to it was lost", async () => {
    const server = new FakeServer();
    const entry = await queue(incident("lost reply"));
    server.loseNextReply = true;
    expect(await syncOnce("sam", server.send)).toMatchObject({ stopped: "offline" });
    expect(await entries("sam")).toHaveLength(1); // not known to be saved, so kept
    expect(await syncOnce("sam", server.send)).toMatchObject({ sent: 1 });
    expect(server.requests.filter(([method]) => method === "POST")).toHaveLength(2);
    expect([...server.records.keys()]).toEqual([entry.id]);
    expect(await entries("sam")).toEqual([]);
  });

  it("sends a change after the record it changes", async () => {
    const server = new FakeServer();
    const created = await queue(incident("short"));
    await queue({ owner: "sam", op: "amend", resource: "incidents", id: created.id, body: { location: "Bus stop" } });
    await syncOnce("sam", server.send);
    expect(server.requests).toEqual([
      ["POST", "/incidents"],
      ["PATCH", `/incidents/${created.id}`],
    ]);
    expect(server.records.get(created.id)).toMatchObject({ description: "short", location: "Bus stop" });
  });

  it("marks a refused record, says why, and carries on with the rest", async () => {
    const server = new FakeServer();
    const bad = await queue({ ...incident("no kind"), body: { occurred_at: "2026-11-21T22:40:00+00:00", behaviours: [] } });
    await queue({ owner: "sam", op: "amend", resource: "incidents", id: bad.id, body: { location: "Home" } });
    const good = await queue(incident("fine"));
    const outcome = await syncOnce("sam", server.send);
    expect(outcome).toEqual({ sent: 1, failed: 2, stopped: null });
    const left = await entries("sam");
    expect(left.map((e) => [e.id, e.state])).toEqual([
      [bad.id, "failed"],
      [bad.id, "failed"],
    ]);
    expect(left[0].error).toContain("behaviours: List should have at least 1 item");
    expect(left[1].error).toBe("The record this changes could not be saved.");
    expect(server.records.has(good.id)).toBe(true);
    // Failed records are not sent again on the next pass.
    server.requests = [];
    await syncOnce("sam", server.send);
    expect(server.requests).toEqual([]);
  });

  it("marks a conflicting create (same id, different content) instead of overwriting", async () => {
    const server = new FakeServer();
    const entry = await queue(incident("mine"));
    server.records.set(entry.id, { id: entry.id, description: "something else" });
    expect(await syncOnce("sam", server.send)).toMatchObject({ failed: 1 });
    expect((await entries("sam"))[0].error).toMatch(/already saved/);
  });

  it("stops, keeping everything, when the session has ended", async () => {
    const server = new FakeServer();
    server.status = 401;
    await queue(incident("a"));
    await queue(incident("b"));
    expect(await syncOnce("sam", server.send)).toMatchObject({ stopped: "signed-out", sent: 0 });
    expect((await entries("sam")).every((e) => e.state === "waiting")).toBe(true);
  });

  it("stops and tries again later when the server is struggling", async () => {
    const server = new FakeServer();
    server.status = 503;
    await queue(incident("a"));
    expect(await syncOnce("sam", server.send)).toMatchObject({ stopped: "server" });
    const [entry] = await entries("sam");
    expect(entry).toMatchObject({ state: "waiting", attempts: 1 });
    server.status = 429;
    expect(await syncOnce("sam", server.send)).toMatchObject({ stopped: "server" });
  });

  it("sends a change again when another change of the record got there first", async () => {
    const server = new FakeServer();
    const created = await queue(incident("short"));
    await syncOnce("sam", server.send);
    await queue({ owner: "sam", op: "amend", resource: "incidents", id: created.id, body: { location: "Bus stop" } });
    const race = new ApiError(409, { type: "urn:waymark:problem:concurrent-write", detail: "Changed meanwhile." });
    const racing: Sender = async () => {
      throw race;
    };
    expect(await syncOnce("sam", racing)).toMatchObject({ stopped: "server", failed: 0 });
    expect(await entries("sam")).toMatchObject([{ state: "waiting", attempts: 1 }]);
    expect(await syncOnce("sam", server.send)).toMatchObject({ sent: 1, failed: 0 });
    expect(server.records.get(created.id)).toMatchObject({ location: "Bus stop" });
  });

  it("sends only the signed-in account's records", async () => {
    const server = new FakeServer();
    await queue(incident("sam's"));
    const other = await queue(incident("alex's", "alex"));
    await syncOnce("sam", server.send);
    expect(server.records.size).toBe(1);
    expect(await entries("alex")).toEqual([expect.objectContaining({ id: other.id, state: "waiting" })]);
  });

  it("never sends a record twice when asked to sync several times at once", async () => {
    const server = new FakeServer();
    for (let i = 0; i < 5; i++) await queue(incident(`record ${i}`));
    await Promise.all([syncNow("sam", server.send), syncNow("sam", server.send), syncNow("sam", server.send)]);
    expect(server.requests).toHaveLength(5);
    expect(server.records.size).toBe(5);
    expect(await entries("sam")).toEqual([]);
  });

  it("picks up records queued while a pass was running", async () => {
    const server = new FakeServer();
    await queue(incident("first"));
    const running = syncNow("sam", server.send);
    await queue(incident("second"));
    await syncNow("sam", server.send);
    await running;
    expect(server.records.size).toBe(2);
    expect(await entries("sam")).toEqual([]);
  });
});
