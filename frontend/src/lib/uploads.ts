// Evidence uploads: each file is hashed on the phone (SHA-256, read in slices, each slice sealed
// into IndexedDB as it goes), then sent by tus in chunks, so a dropped signal costs one chunk at
// most. Files wait in IndexedDB, sealed, with the address of their upload, so they carry on
// after a reload, a closed app or a night offline.
// One file moves at a time: on a poor connection that finishes files soonest.

import type { DetailedError, Upload } from "tus-js-client";
import { API, ApiError, OfflineError, authHeaders, send } from "./api";
import { sha256OfBlob } from "./hash";
import {
  getUpload,
  newId,
  PIECE_SIZE,
  putPiece,
  putUpload,
  removePieces,
  removeUpload,
  setOnServer,
  uploads as stored,
  type UploadEntry,
} from "./outbox";
import { bytesOfBlob, bytesOfPieces, fileBytesReader, UnreadableFile, type FileBytes } from "./pieces";
import { createStore } from "./store";

export const CHUNK_SIZE = 4 * 1024 * 1024;

export type UploadStatus = "hashing" | "waiting" | "uploading" | "paused" | "failed" | "done";

export interface UploadView {
  id: string;
  name: string;
  size: number;
  status: UploadStatus;
  /** Bytes of the current step that are done: checked on the phone while hashing, then the
   * bytes the server confirmed it holds (its Upload-Offset), never merely the bytes sent. */
  done: number;
  total: number;
  /** Set when this attempt carried on from bytes already on the server (after a pause, a
   * dropped signal or a reload). */
  resumedFrom?: number;
  error?: string;
  evidenceId?: string;
}

export const uploadStore = createStore<{ items: UploadView[] }>({ items: [] });

type Result = "done" | "later" | "failed" | "paused";

let owner: string | null = null;
let isReady: (incidentIds: string[]) => Promise<boolean> = async () => true;
let running = false;
let wake = false;
let active: { id: string; upload: Upload; settle: (result: Result) => void } | null = null;
const progress = new Map<string, { status: UploadStatus; done: number; total: number; resumedFrom?: number }>();
const finished = new Map<string, UploadView>();
const stopHashing = new Set<string>();
/** The files chosen on this page, by upload id: read directly while the page lasts (and the
 * only copy of those the phone had no room to seal). */
const held = new Map<string, Blob>();

function fileOf(entry: UploadEntry): FileBytes | null {
  const chosen = held.get(entry.id);
  if (chosen) return bytesOfBlob(chosen);
  return entry.pieces !== undefined ? bytesOfPieces(entry.id, entry.size) : null;
}
const LOST = "This file was too large to keep on the phone while waiting. Choose it again to send it.";

class Stopped extends Error {}

function viewOf(entry: UploadEntry): UploadView {
  const live = progress.get(entry.id);
  const base = { id: entry.id, name: entry.name, size: entry.size, error: entry.error };
  // What the server last said it holds outlasts a dropped signal or a reload: never shown as 0.
  const onServer = entry.onServer ?? 0;
  if (entry.state === "paused" || entry.state === "failed") return { ...base, status: entry.state, done: onServer, total: entry.size };
  if (live) return { ...base, ...live };
  return { ...base, status: entry.state, done: entry.state === "waiting" ? onServer : 0, total: entry.size };
}

async function refresh(): Promise<void> {
  if (!owner) {
    uploadStore.set({ items: [] });
    return;
  }
  const waiting = (await stored(owner)).map(viewOf);
  uploadStore.set({ items: [...waiting, ...finished.values()] });
}

let redrawTimer: ReturnType<typeof setTimeout> | null = null;
function redrawSoon(): void {
  redrawTimer ??= setTimeout(() => {
    redrawTimer = null;
    void refresh();
  }, 150);
}

/** Start (or carry on with) this account's uploads. `ready` says whether the incidents a file
 * belongs to are on the server yet (they may still be in the outbox). */
export function startUploads(account: string, ready: (incidentIds: string[]) => Promise<boolean>): void {
  owner = account;
  isReady = ready;
  void refresh();
  void kick();
}

export function stopUploads(): void {
  owner = null;
  active?.upload.abort(false).catch(() => undefined);
  active?.settle("paused");
  active = null;
  progress.clear();
  finished.clear();
  held.clear();
  void refresh();
}

export async function addFiles(files: File[], meta: { description: string; incidentIds: string[] }): Promise<void> {
  if (!owner) return;
  for (const file of files) {
    // Only the name and description go to storage now; the contents are sealed while hashing.
    const entry: UploadEntry = {
      id: newId(),
      owner,
      name: file.name || "file",
      type: file.type,
      size: file.size,
      description: meta.description.trim(),
      incidentIds: meta.incidentIds,
      state: "hashing",
      queuedAt: new Date().toISOString(),
    };
    held.set(entry.id, file);
    await putUpload(entry);
  }
  await refresh();
  void kick();
}

export async function pauseUpload(id: string): Promise<void> {
  const entry = await getUpload(id);
  if (!entry) return;
  // Marked first, so the queue does not pick the file up again while it stops.
  await putUpload({ ...entry, state: "paused" });
  stopHashing.add(id);
  if (active?.id === id) {
    const current = active;
    active = null;
    await current.upload.abort(false).catch(() => undefined);
    current.settle("paused");
  }
  await refresh();
}

export async function resumeUpload(id: string): Promise<void> {
  const entry = await getUpload(id);
  if (!entry) return;
  await putUpload({ ...entry, state: entry.sha256 ? "waiting" : "hashing", error: undefined });
  await refresh();
  void kick();
}

/** Stop and forget a file (the server throws away what it had received). */
export async function discardUpload(id: string): Promise<void> {
  finished.delete(id);
  const entry = await getUpload(id);
  if (entry?.state === "hashing") stopHashing.add(id);
  if (active?.id === id) {
    const current = active;
    active = null;
    await current.upload.abort(true).catch(() => undefined);
    current.settle("paused");
  } else if (entry?.uploadUrl) {
    await fetch(entry.uploadUrl, { method: "DELETE", headers: authHeaders({ "Tus-Resumable": "1.0.0" }), credentials: "same-origin" }).catch(
      () => undefined,
    );
  }
  await removeUpload(id);
  progress.delete(id);
  held.delete(id);
  await refresh();
}

/** Clear finished files from the list. */
export function clearFinished(): void {
  finished.clear();
  void refresh();
}

/** Work through the queue until it is empty or has to wait (offline, signed out). */
export async function kick(): Promise<void> {
  if (running) {
    wake = true;
    return;
  }
  running = true;
  try {
    do {
      wake = false;
      await work();
    } while (wake && owner);
  } finally {
    running = false;
  }
}

async function work(): Promise<void> {
  while (owner) {
    const list = await stored(owner);
    const next = list.find((entry) => entry.state === "hashing") ?? list.find((entry) => entry.state === "waiting");
    if (!next) return;
    if (next.state === "hashing") {
      await hash(next);
      continue;
    }
    if (!navigator.onLine || !(await isReady(next.incidentIds))) return;
    const result = await upload(next);
    if (result === "later") return;
  }
}

async function hash(entry: UploadEntry): Promise<void> {
  const file = held.get(entry.id);
  if (!file) {
    // Chosen on a page that closed before its contents were sealed.
    await putUpload({ ...entry, state: "failed", error: LOST });
    await refresh();
    return;
  }
  stopHashing.delete(entry.id);
  progress.set(entry.id, { status: "hashing", done: 0, total: entry.size });
  await refresh();
  let roomToKeep = true;
  const keepPiece = async (bytes: ArrayBuffer, index: number) => {
    if (!roomToKeep) return;
    try {
      await putPiece(entry.id, index, bytes);
    } catch {
      // No room on the phone for a copy (a long video on a full phone): send it from memory.
      roomToKeep = false;
      await removePieces(entry.id).catch(() => undefined);
    }
  };
  try {
    const sha256 = await sha256OfBlob(
      file,
      (done, total) => {
        if (stopHashing.has(entry.id)) throw new Stopped();
        progress.set(entry.id, { status: "hashing", done, total });
        redrawSoon();
      },
      PIECE_SIZE,
      keepPiece,
    );
    const fresh = await getUpload(entry.id);
    const pieces = roomToKeep ? Math.ceil(entry.size / PIECE_SIZE) : undefined;
    if (fresh?.state === "hashing") await putUpload({ ...fresh, sha256, pieces, state: "waiting" });
    progress.set(entry.id, { status: "waiting", done: 0, total: entry.size });
  } catch (error) {
    progress.delete(entry.id);
    stopHashing.delete(entry.id);
    if (!(error instanceof Stopped)) {
      const fresh = await getUpload(entry.id);
      if (fresh) await putUpload({ ...fresh, state: "failed", error: "This file could not be read on this phone." });
    }
  }
  await refresh();
}

function evidenceIdOf(url: string): string {
  return url.split("?")[0].replace(/\/+$/, "").split("/").pop() ?? "";
}

async function finish(entry: UploadEntry, evidenceId: string): Promise<void> {
  finished.set(entry.id, {
    id: entry.id,
    name: entry.name,
    size: entry.size,
    status: "done",
    done: entry.size,
    total: entry.size,
    evidenceId,
  });
  progress.delete(entry.id);
  held.delete(entry.id);
  await removeUpload(entry.id);
  await refresh();
}

function metadata(entry: UploadEntry): Record<string, string> {
  const values: Record<string, string> = {
    filename: entry.name,
    filetype: entry.type || "application/octet-stream",
    sha256: entry.sha256 ?? "",
    description: entry.description,
    incident_ids: entry.incidentIds.join(","),
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value));
}

function problemDetail(error: DetailedError): string {
  try {
    const body = JSON.parse(error.originalResponse?.getBody() ?? "") as { detail?: string; title?: string };
    if (body.detail || body.title) return (body.detail || body.title) as string;
  } catch {
    /* not a problem document */
  }
  return "The server did not accept this file.";
}

/** The file's sealed copy is missing or will not open: only choosing it again helps. */
function unreadable(error: Error): boolean {
  return error instanceof UnreadableFile || (error as DetailedError).causingError instanceof UnreadableFile;
}

/** Worth trying again later: no answer, or an answer that is about now rather than the file. */
function transient(status: number): boolean {
  return status === 0 || status >= 500 || [401, 408, 409, 423, 429, 460].includes(status);
}

async function upload(entry: UploadEntry): Promise<Result> {
  if (entry.uploadUrl) {
    // The last piece may have gone in just before the app closed: the evidence has the
    // upload's id, and starting again would keep the file twice.
    const evidenceId = evidenceIdOf(entry.uploadUrl);
    try {
      await send("GET", `/evidence/${evidenceId}`, undefined, { quietAuth: true });
      await finish(entry, evidenceId);
      return "done";
    } catch (error) {
      if (error instanceof OfflineError) return "later";
      if (error instanceof ApiError && error.status !== 404) return "later";
    }
  }
  const file = fileOf(entry);
  if (!file) {
    await putUpload({ ...entry, state: "failed", error: LOST });
    await refresh();
    return "failed";
  }
  const { Upload: TusUpload } = await import("tus-js-client");
  return new Promise<Result>((resolve) => {
    let settled = false;
    // The server names the evidence when the upload ends, and again when a HEAD (or a last
    // PATCH sent twice) finds it already finished, so nothing is ever sent twice.
    let evidenceId: string | null = null;
    const settle = (result: Result) => {
      if (!settled) {
        settled = true;
        if (active?.id === entry.id) active = null;
        resolve(result);
      }
    };
    const upload: Upload = new TusUpload(file as unknown as Blob, {
      // Reads the chosen file, or its sealed pieces one at a time (lib/pieces.ts).
      fileReader: fileBytesReader as never,
      endpoint: new URL(`${API}/uploads`, location.origin).href,
      uploadUrl: entry.uploadUrl ?? null,
      chunkSize: CHUNK_SIZE,
      headers: authHeaders(),
      retryDelays: [0, 1000, 3000, 5000, 10000],
      storeFingerprintForResuming: false,
      metadata: metadata(entry),
      onUploadUrlAvailable: () => {
        void getUpload(entry.id).then((fresh) => {
          if (fresh && upload.url) return putUpload({ ...fresh, uploadUrl: upload.url });
        });
      },
      // Progress is what the server confirmed (Upload-Offset after the HEAD that resumes and
      // after each chunk), not what left the phone: bytes sent can still be lost.
      onAfterResponse: (request, response) => {
        evidenceId = response.getHeader("Waymark-Evidence-Id") || evidenceId;
        const status = response.getStatus();
        if (status < 200 || status >= 300) return;
        // A new upload (the server had none to resume) starts from nothing, whatever was heard.
        const offset = request.getMethod() === "POST" ? 0 : Number(response.getHeader("Upload-Offset") ?? NaN);
        if (!Number.isFinite(offset)) return;
        const resumed = request.getMethod() === "HEAD" && offset > 0 ? offset : progress.get(entry.id)?.resumedFrom;
        progress.set(entry.id, { status: "uploading", done: offset, total: entry.size, resumedFrom: resumed });
        void setOnServer(entry.id, offset).catch(() => undefined);
        redrawSoon();
      },
      onSuccess: () => {
        void finish(entry, evidenceId ?? evidenceIdOf(upload.url ?? "")).then(() => settle("done"));
      },
      onError: (error) => {
        const status = (error as DetailedError).originalResponse?.getStatus() ?? 0;
        progress.delete(entry.id);
        if (unreadable(error)) {
          void getUpload(entry.id)
            .then((fresh) => fresh && putUpload({ ...fresh, state: "failed", error: LOST }))
            .then(refresh)
            .then(() => settle("failed"));
          return;
        }
        if (transient(status)) {
          void refresh().then(() => settle("later"));
          return;
        }
        void getUpload(entry.id)
          .then((fresh) => fresh && putUpload({ ...fresh, state: "failed", error: problemDetail(error as DetailedError) }))
          .then(refresh)
          .then(() => settle("failed"));
      },
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        return navigator.onLine && status !== 401 && !unreadable(error) && transient(status);
      },
    });
    active = { id: entry.id, upload, settle };
    progress.set(entry.id, { status: "uploading", done: entry.onServer ?? 0, total: entry.size });
    redrawSoon();
    upload.start();
  });
}
