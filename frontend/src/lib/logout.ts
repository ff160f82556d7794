// A sign-out that has not reached the server yet. The phone forgets the session's proof and key
// at once (lib/vault.ts), signal or not; the server is told as soon as the phone can reach it,
// before anything else is sent: by the app when it starts or the signal returns, and by the
// service worker (public/logout-sw.js, through Background Sync) even if the app is never opened
// again. The cookie alone is enough for the server to end the session.

import { API } from "./api";
import { logoutOwed, owesLogout } from "./vault";

/** The Background Sync tag the service worker answers (public/logout-sw.js). */
export const LOGOUT_SYNC_TAG = "logout";
const LOGOUT_WAIT_MS = 4_000;

/**
 * Send the sign-out now, whether or not one is owed. True once the server has no such session:
 * it ended it, or it had already forgotten it (401: expired, or ended from another device).
 * keepalive lets it finish while the page is being left (quick exit).
 */
export async function sendLogout(origin = location.origin): Promise<boolean> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), LOGOUT_WAIT_MS);
  try {
    const response = await fetch(`${origin}${API}/auth/logout`, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { accept: "application/json" },
      signal: stop.signal,
      keepalive: true,
    });
    if (response.ok || response.status === 401) {
      await owesLogout(false);
      return true;
    }
  } catch {
    /* no signal: still owed */
  } finally {
    clearTimeout(timer);
  }
  return false;
}

/** Pay the debt if there is one. True when nothing is owed any more. */
export async function payLogout(origin?: string): Promise<boolean> {
  if (!(await logoutOwed())) return true;
  return sendLogout(origin);
}

/** Ask the service worker to send the sign-out once the phone is online, app open or not.
 * Where Background Sync is missing, the app still sends it on its next start. */
export async function syncLogoutLater(): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    const sync = (registration as (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }) | undefined)?.sync;
    await sync?.register(LOGOUT_SYNC_TAG);
  } catch {
    /* not allowed here: the app pays it on its next start */
  }
}
