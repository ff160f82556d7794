// Downloading an evidence pack with progress: the pack streams in, is counted as it comes, and
// is handed to the browser as a file when complete.

import { API, ApiError, OfflineError, authHeaders, type Problem } from "./api";

/** The file name from a Content-Disposition header (RFC 6266, with the RFC 8187 form first). */
export function filenameOf(header: string | null, fallback = "evidence-pack.zip"): string {
  if (!header) return fallback;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      /* fall through to the plain name */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(header);
  const name = plain ? (plain[1] ?? plain[2] ?? "").trim() : "";
  return name || fallback;
}

export async function downloadWithProgress(
  path: string,
  onProgress: (received: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ blob: Blob; filename: string }> {
  let response: Response;
  try {
    response = await fetch(path.startsWith(API) ? path : API + path, { credentials: "same-origin", cache: "no-store", signal, headers: authHeaders() });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new OfflineError();
  }
  if (!response.ok) {
    let problem: Problem = {};
    try {
      problem = (await response.json()) as Problem;
    } catch {
      /* not a problem document */
    }
    throw new ApiError(response.status, problem);
  }
  const total = Number(response.headers.get("content-length") ?? 0);
  const chunks: BlobPart[] = [];
  let received = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
    onProgress(received, total);
  }
  return {
    blob: new Blob(chunks, { type: response.headers.get("content-type") ?? "application/zip" }),
    filename: filenameOf(response.headers.get("content-disposition")),
  };
}

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
