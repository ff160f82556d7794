// Part of the service worker (imported by sw.js): a sign-out made with no signal reaches the
// server as soon as the phone is online again, even if the app is never opened again. The app
// records the debt in its "notes-keys" database (src/lib/vault.ts) and asks for a Background
// Sync (src/lib/logout.ts); the cookie alone lets the server end the session. Nothing of the
// account is read here: only whether the row is there.
/* eslint-env serviceworker */
"use strict";

const LOGOUT_TAG = "logout";
const KEYS_DB = "notes-keys";
const KEYS_STORE = "keys";
const LOGOUT_ID = "logout";

/** The app's key database, or null if the app never made it (nothing is created here). */
function openKeys() {
  return new Promise((resolve) => {
    const request = indexedDB.open(KEYS_DB);
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => {
      const db = request.result;
      if (db.objectStoreNames.contains(KEYS_STORE)) resolve(db);
      else {
        db.close();
        resolve(null);
      }
    };
    request.onerror = () => resolve(null);
  });
}

function onKeys(db, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(KEYS_STORE, mode);
    const request = work(tx.objectStore(KEYS_STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

async function payLogout() {
  const db = await openKeys();
  if (!db) return;
  try {
    // Gone when the app paid it first, or someone signed in again since (their session stays).
    const owed = await onKeys(db, "readonly", (keys) => keys.get(LOGOUT_ID));
    if (!owed) return;
    const response = await fetch("/api/v1/auth/logout", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { accept: "application/json" },
    });
    // 401: the server had already forgotten the session.
    if (!response.ok && response.status !== 401) throw new Error(`sign-out answered ${response.status}`);
    await onKeys(db, "readwrite", (keys) => keys.delete(LOGOUT_ID));
  } finally {
    db.close();
  }
}

self.addEventListener("sync", (event) => {
  // A failure (no signal after all) rejects, and the browser tries again later.
  if (event.tag === LOGOUT_TAG) event.waitUntil(payLogout());
});
