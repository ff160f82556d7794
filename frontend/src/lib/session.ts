// Who is signed in, what is waiting to be sent, and signing out. Everything the app keeps
// on the phone is tied to the account that made it and sealed with the vault's key; every
// sign-out forgets the key and the session's proof at once, signal or not, and the server is
// told as soon as it can be, before anything else is sent.

import { ApiError, OfflineError, onSignedOut, send } from "./api";
import { clearOutbox, entries, onOutboxChange, queue, type OutboxEntry, type Resource } from "./outbox";
import { freezeHistory, navigate } from "./router";
import { exitSignsOut, IDLE_MINUTES, quickExit, watchIdle } from "./safety";
import { createStore } from "./store";
import { syncNow, type SyncOutcome } from "./sync";
import type { User } from "./types";
import { kick, startUploads, stopUploads, uploadStore } from "./uploads";
import { payLogout, sendLogout, syncLogoutLater } from "./logout";
import { forgetSeen } from "./seen";
import { closeVault, dropDrafts, loadVault, openVault, owesLogout } from "./vault";

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

/** Left by older versions of the app (the account's name, in plain text): removed on start. */
const OLD_USER_KEY = "notes.account";
const NOTICE_KEY = "notes.notice";
const RETRY_MS = 20_000;
const SEND_WAIT_MS = 3_000;

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
  forgetSeen();
  stopIdle?.();
  stopIdle = null;
  if (retryTimer) clearInterval(retryTimer);
  retryTimer = null;
  stopUploads();
}

/** The server no longer knows this session (it expired): ask for a sign-in, keep the outbox
 * (sealed: it opens again when the same person signs in). */
function sessionEnded(): void {
  if (!appStore.get().user) return;
  end();
  void closeVault();
  appStore.set({ user: null, pending: [], notice: "You have been signed out. Sign in again to carry on; nothing waiting to be sent is lost." });
  navigate("signin");
}

export async function boot(): Promise<void> {
  onSignedOut(sessionEnded);
  onOutboxChange(() => void refreshPending());
  window.addEventListener("online", () => {
    appStore.set({ online: true });
    void payLogout().then(() => syncAll());
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
    localStorage.removeItem(OLD_USER_KEY);
  } catch {
    /* nothing stored */
  }
  // A sign-out the server has not heard of goes first, before any other request (a sign-in
  // waits for it too); with no signal the service worker is asked to send it when there is one.
  const paid = payLogout().then((done) => done || void syncLogoutLater());
  const vault = await loadVault();
  if (!vault) {
    // Signed out on this phone: whatever the browser still holds opens nothing, so the sign-in
    // screen need not wait for a slow signal.
    appStore.set({ ready: true, user: null, notice });
    return;
  }
  await paid;
  try {
    const user = (await send<User>("GET", "/auth/me", undefined, { quietAuth: true })).body;
    begin(user);
  } catch (error) {
    if (error instanceof OfflineError) {
      // No connection: carry on as the person who signed in here, so they can log things.
      begin(vault.user);
      appStore.set({ online: false });
      return;
    }
    if (error instanceof ApiError && error.status !== 401) {
      begin(vault.user);
      return;
    }
    await closeVault();
    appStore.set({ ready: true, user: null, notice });
  }
}

/** After a successful sign-in or sign-up: keep the proof and the sealing key, then start. */
export async function signedIn(user: User & { session_proof?: string }, password: string): Promise<void> {
  const { session_proof: proof, ...person } = user;
  if (!proof) throw new Error("The server did not send a session proof.");
  // The server replaced the cookie: a sign-out still owed would now end this new session.
  await owesLogout(false);
  await openVault(person, proof, password);
  navigate(person.role === "victim" ? "home" : "cases");
  begin(person);
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
export async function signOut(options: { reason: "chosen" | "idle" | "erased" | "exit" }): Promise<void> {
  const keepOutbox = options.reason === "idle" || options.reason === "exit";
  const tellServer = options.reason !== "erased";
  end();
  // First and offline-proof: the proof and the key are gone (so the cookie opens nothing), and
  // in the same write the server is owed the sign-out.
  await closeVault({ oweLogout: tellServer });
  if (!keepOutbox) {
    await clearOutbox().catch(() => undefined);
    await dropDrafts();
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
  // A fresh page: nothing from the session stays in memory. It pays the sign-out first (it is
  // owed until the server answers), without keeping the sign-in screen waiting, so a signal
  // that hangs leaves nothing of the account on screen. Offline only when the service worker
  // will answer (it serves the app), or the browser would show its error page.
  if (navigator.onLine || navigator.serviceWorker?.controller) {
    location.replace("/");
    return;
  }
  appStore.set({ user: null, pending: [], notice });
  navigate("signin");
  if (tellServer) void payLogout().then((paid) => (paid ? undefined : syncLogoutLater()));
}

/** Every Cache Storage cache but the app's own files (no records in them: they let the app,
 * signed out, open offline instead of the browser's error page), and local storage. */
export async function clearCaches(): Promise<void> {
  try {
    if ("caches" in window)
      await Promise.all(
        (await caches.keys()).filter((name) => !name.startsWith("workbox-precache")).map((name) => caches.delete(name)),
      );
  } catch {
    /* no caches */
  }
  try {
    localStorage.clear();
  } catch {
    /* nothing stored */
  }
}


/**
 * Quick exit (the button or Esc). Unless turned off, it signs out as well: the proof and the key
 * are forgotten before the page is left, and the sign-out is sent (or owed). Unsent records
 * stay sealed, as after an automatic sign-out.
 */
export function leaveNow(): void {
  document.documentElement.classList.add("leaving");
  freezeHistory();
  if (!exitSignsOut() || !appStore.get().user) {
    quickExit();
    return;
  }
  end();
  // Waits only for the vault to be wiped and the debt written (a few milliseconds), never for
  // the network: the sign-out is sent with keepalive, and owed if it does not arrive.
  void closeVault({ oweLogout: true })
    .then(() => {
      void sendLogout();
      void syncLogoutLater();
    })
    .finally(() => quickExit());
}
