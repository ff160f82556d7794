// Sending the outbox: oldest first, each record once. A create carries the id the phone chose,
// and the server answers a repeat of the same create with the record it already has (200), so
// a reply lost on a bad connection is simply sent again, never saved twice.

import { ApiError, OfflineError, type Answer } from "./api";
import { entries, remove, update, type OutboxEntry } from "./outbox";

export type Sender = (method: string, path: string, body: unknown) => Promise<Pick<Answer<unknown>, "status">>;

export interface SyncOutcome {
  sent: number;
  failed: number;
  /** Why it stopped early: no connection, signed out, or the server is struggling. */
  stopped: "offline" | "signed-out" | "server" | null;
}

/**
 * Another request (another phone) changed the record at the same moment and got there first:
 * nothing of this one was saved, and sending it again applies it on top of theirs.
 */
function lostARace(error: ApiError): boolean {
  return error.status === 409 && (error.problem.type ?? "").endsWith(":concurrent-write");
}

/** Refusals that will not change by trying again: the record stays, marked, for the person. */
function refusedForGood(error: ApiError): boolean {
  if (lostARace(error)) return false;
  return error.status >= 400 && error.status < 500 && ![401, 408, 425, 429].includes(error.status);
}

function refusal(error: ApiError): string {
  if (error.status === 409) return "Something different was already saved under this record's id.";
  const fields = Object.entries(error.fields).map(([field, message]) => `${field.replace(/_/g, " ")}: ${message}`);
  return fields.length ? fields.join(" ") : error.message;
}

function request(entry: OutboxEntry): [string, string, unknown] {
  return entry.op === "create"
    ? ["POST", `/${entry.resource}`, { ...entry.body, id: entry.id }]
    : ["PATCH", `/${entry.resource}/${entry.id}`, entry.body];
}

/** One pass over this account's outbox. */
export async function syncOnce(owner: string, sender: Sender): Promise<SyncOutcome> {
  const outcome: SyncOutcome = { sent: 0, failed: 0, stopped: null };
  const blocked = new Set<string>();
  for (const entry of await entries(owner)) {
    if (entry.state === "failed") {
      if (entry.op === "create") blocked.add(entry.id);
      continue;
    }
    if (blocked.has(entry.id)) {
      // A change to a record that could not be saved cannot be saved either.
      await update({ ...entry, state: "failed", error: "The record this changes could not be saved." });
      outcome.failed += 1;
      continue;
    }
    try {
      const [method, path, body] = request(entry);
      await sender(method, path, body);
      await remove(entry.seq!);
      outcome.sent += 1;
    } catch (error) {
      if (error instanceof OfflineError) return { ...outcome, stopped: "offline" };
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401) return { ...outcome, stopped: "signed-out" };
      if (!refusedForGood(error)) {
        await update({ ...entry, attempts: entry.attempts + 1 });
        return { ...outcome, stopped: "server" };
      }
      await update({ ...entry, state: "failed", error: refusal(error), attempts: entry.attempts + 1 });
      if (entry.op === "create") blocked.add(entry.id);
      outcome.failed += 1;
    }
  }
  return outcome;
}

let running: Promise<SyncOutcome> | null = null;
let again = false;

/**
 * Send what is waiting. Calls made while a pass is running share it (and ask for one more
 * pass, for records queued meanwhile); other tabs wait their turn through a Web Lock.
 */
export function syncNow(owner: string, sender: Sender): Promise<SyncOutcome> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    let outcome: SyncOutcome;
    do {
      again = false;
      outcome = await exclusively(() => syncOnce(owner, sender));
    } while (again && outcome.stopped === null);
    return outcome;
  })().finally(() => {
    running = null;
  });
  return running;
}

function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? (locks.request("notes-outbox", work) as Promise<T>) : work();
}
