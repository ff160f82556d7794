// Who is signed in, what is waiting to be sent, and signing out. Everything the app keeps
// on the phone is tied to the account that made it, and signing out removes it.

import { ApiError, OfflineError, onSignedOut, post, send } from "./api";
import { clearOutbox, entries, onOutboxChange, queue, type OutboxEntry, type Resource } from "./outbox";
import { navigate } from "./router";
import { IDLE_MINUTES, watchIdle } from "./safety";
import { createStore } from "./store";
import { syncNow, type SyncOutcome } from "./sync";
import type { User } from "./types";
import { kick, startUploads, stopUploads, uploadStore } from "./uploads";

export interface AppState {
  ready: boolean;
  user: User | null;
  online: boolean;
  pending: OutboxEntry[];
  lastSync: SyncOutcome | null;
  /** A short message for the sign-in screen (why you were signed out). */
  notice: string | null;
}

export const appStore = createStore<AppState>({
  ready: false,
  user: null,
  online: typeof navigator === "undefined" ? true : navigator.onLine,
  pending: [],
  lastSync: null,
  notice: null,
});

const USER_KEY = "notes.account";
const NOTICE_KEY = "notes.notice";
const RETRY_MS = 20_000;
const SEND_WAIT_MS = 3_000;

function cachedUser(): User | null {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? "null") as User | null;
  } catch {
    return null;
  }
}

function remember(user: User | null): void {
  try {
    if (user) localStorage.setItem(USER_KEY, JSON.stringify({ ...user, email: "" }));
    else localStorage.removeItem(USER_KEY);
  } catch {
    /* storage refused: offline start will ask for a sign-in */
  }
}

let stopIdle: (() => void) | null = null;
let retryTimer: ReturnType<typeof setInterval> | null = null;

async function refreshPending(): Promise<void> {
  const user = appStore.get().user;
  appStore.set({ pending: user ? await entries(user.id) : [] });
}

/** Send what is waiting, then let waiting files go. */
export async function syncAll(): Promise<SyncOutcome | null> {
  const user = appStore.get().user;
  if (!user || user.role !== "victim") return null;
  const outcome = await syncNow(user.id, (method, path, body) => send(method, path, body, { quietAuth: true }));
  if (outcome.stopped === "signed-out") sessionEnded();
  appStore.set({ lastSync: outcome });
  await refreshPending();
  void kick();
  return outcome;
}

/** Ids of incidents still in the outbox: files for them wait until they are sent. */
async function incidentsSent(ids: string[]): Promise<boolean> {
  const user = appStore.get().user;
  if (!user || !ids.length) return true;
  const waiting = new Set((await entries(user.id)).filter((e) => e.op === "create").map((e) => e.id));
  return ids.every((id) => !waiting.has(id));
}

function begin(user: User): void {
  remember(user);
  appStore.set({ user, notice: null, ready: true });
  void refreshPending();
  stopIdle?.();
  stopIdle = watchIdle(IDLE_MINUTES * 60_000, () => void signOut({ reason: "idle" }));
  if (user.role === "victim") {
    startUploads(user.id, incidentsSent);
    void syncAll();
    retryTimer ??= setInterval(() => {
      const { pending } = appStore.get();
      const files = uploadStore.get().items.some((item) => item.status === "waiting");
      if (pending.some((entry) => entry.state === "waiting")) void syncAll();
      else if (files) void kick();
    }, RETRY_MS);
  }
}

function end(): void {
  stopIdle?.();
  stopIdle = null;
  if (retryTimer) clearInterval(retryTimer);
  retryTimer = null;
  stopUploads();
  remember(null);
}

/** The server no longer knows this session (it expired): ask for a sign-in, keep the outbox. */
function sessionEnded(): void {
  if (!appStore.get().user) return;
  end();
  appStore.set({ user: null, pending: [], notice: "You have been signed out. Sign in again to carry on; nothing waiting to be sent is lost." });
  navigate("signin");
}

export async function boot(): Promise<void> {
  onSignedOut(sessionEnded);
  onOutboxChange(() => void refreshPending());
  window.addEventListener("online", () => {
    appStore.set({ online: true });
    void syncAll();
  });
  window.addEventListener("offline", () => appStore.set({ online: false }));
  let notice: string | null = null;
  try {
    notice = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
  } catch {
    /* no notice */
  }
  try {
    const user = (await send<User>("GET", "/auth/me", undefined, { quietAuth: true })).body;
    begin(user);
  } catch (error) {
    const cached = cachedUser();
    if (error instanceof OfflineError && cached) {
      // No connection: carry on as the person who was signed in here, so they can log things.
      begin(cached);
      appStore.set({ online: false });
      return;
    }
    if (error instanceof ApiError && error.status !== 401 && cached) {
      begin(cached);
      return;
    }
    remember(null);
    appStore.set({ ready: true, user: null, notice });
  }
}

export function signedIn(user: User): void {
  navigate(user.role === "victim" ? "home" : "cases");
  begin(user);
}

/** Put a record in the outbox and try to send it straight away. */
export async function keep(resource: Resource, op: "create" | "amend", id: string, body: Record<string, unknown>): Promise<boolean> {
  const user = appStore.get().user;
  if (!user) throw new Error("Not signed in");
  await queue({ owner: user.id, op, resource, id, body });
  await refreshPending();
  // Wait a moment for the answer, not for a connection that may take minutes to give up.
  await Promise.race([syncAll(), new Promise((resolve) => setTimeout(resolve, SEND_WAIT_MS))]);
  return !appStore.get().pending.some((entry) => entry.id === id);
}

/**
 * Sign out. Chosen by the person: the outbox, waiting files and the app's caches are all
 * removed. After inactivity, things not yet sent stay (tied to this account, shown to nobody)
 * and are sent after the next sign-in, so a night offline loses nothing; the cached app
 * itself (no records in it) stays so it still opens offline.
 */
export async function signOut(options: { reason: "chosen" | "idle" | "erased" }): Promise<void> {
  const keepOutbox = options.reason === "idle";
  end();
  if (options.reason !== "erased") await post("/auth/logout").catch(() => undefined);
  if (!keepOutbox) {
    await clearOutbox().catch(() => undefined);
    await clearCaches();
  }
  const notice =
    options.reason === "idle"
      ? "You were signed out because the app was not used for a while."
      : options.reason === "erased"
        ? "Your account and everything in it have been erased."
        : null;
  try {
    sessionStorage.clear();
    if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
  } catch {
    /* nothing to keep */
  }
  if (navigator.onLine) {
    // A fresh page: nothing from the session stays in memory.
    location.replace("/");
    return;
  }
  appStore.set({ user: null, pending: [], notice });
  navigate("signin");
}

/** Every Cache Storage cache, and anything else the app left in local storage. */
export async function clearCaches(): Promise<void> {
  try {
    if ("caches" in window) await Promise.all((await caches.keys()).map((name) => caches.delete(name)));
  } catch {
    /* no caches */
  }
  try {
    localStorage.clear();
  } catch {
    /* nothing stored */
  }
}

