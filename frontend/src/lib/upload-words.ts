// What the list of files says about each one. Honest about where a file is: "saved on the
// server" only once the upload has finished and the server has made it evidence; progress is
// what the server confirmed it holds, never the bytes that merely left the phone.

import { formatBytes, formatPercent } from "./format";
import type { UploadView } from "./uploads";

export interface UploadWords {
  /** The status line, read by screen readers with the file's name. */
  status: string;
  /** A second line, when there is more to say (carrying on after an interruption). */
  note?: string;
}

const onServer = (item: UploadView) => `${formatBytes(item.done)} of ${formatBytes(item.size)} on the server`;

export function uploadWords(item: UploadView): UploadWords {
  switch (item.status) {
    case "hashing":
      return { status: `Checking the file – ${formatPercent(item.done, item.total)}` };
    case "waiting":
      return item.done > 0
        ? { status: `Waiting to send the rest – ${onServer(item)}`, note: "It carries on from there, not from the start." }
        : { status: "Waiting to send" };
    case "uploading":
      return {
        status: `Sending – ${formatPercent(item.done, item.size)} on the server (${formatBytes(item.done)} of ${formatBytes(item.size)})`,
        note: item.resumedFrom
          ? `Carrying on from ${formatBytes(item.resumedFrom)} that was already on the server.`
          : undefined,
      };
    case "paused":
      return item.done > 0 ? { status: `Paused – ${onServer(item)}` } : { status: "Paused" };
    case "failed":
      return { status: "Not sent" };
    case "done":
      return { status: "Saved on the server" };
  }
}

