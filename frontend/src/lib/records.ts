// Reading a record to change it, wherever it is: still in the outbox, or on the server.

import { get } from "./api";
import { entries, type Resource } from "./outbox";
import { appStore } from "./session";

/** The record as it will be once everything waiting for it has been sent, or null. */
export async function pendingRecord(resource: Resource, id: string): Promise<Record<string, unknown> | null> {
  const user = appStore.get().user;
  if (!user) return null;
  const mine = (await entries(user.id)).filter((entry) => entry.resource === resource && entry.id === id);
  const created = mine.find((entry) => entry.op === "create");
  if (!created) return null;
  return mine.reduce<Record<string, unknown>>((record, entry) => ({ ...record, ...entry.body }), { id });
}

export async function loadRecord<T>(resource: Resource, id: string): Promise<{ record: T; pending: boolean }> {
  const pending = await pendingRecord(resource, id);
  if (pending) return { record: pending as T, pending: true };
  return { record: await get<T>(`/${resource}/${id}`), pending: false };
}
