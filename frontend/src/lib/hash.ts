// SHA-256 of a file, computed on the phone before it is sent, so the server can prove the file
// arrived exactly as it left. Web Crypto only hashes a whole buffer at once, which a 1 GB video
// would not survive on a cheap phone, so this reads the file in slices into an incremental hash.

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

export const HASH_SLICE = 4 * 1024 * 1024;

/** `onSlice` sees each slice as it is read (the upload seals it for the phone's storage). */
export async function sha256OfBlob(
  blob: Blob,
  onProgress?: (done: number, total: number) => void,
  sliceSize = HASH_SLICE,
  onSlice?: (bytes: ArrayBuffer, index: number) => Promise<void>,
): Promise<string> {
  const hash = sha256.create();
  const total = blob.size;
  for (let offset = 0, index = 0; offset < total; offset += sliceSize, index += 1) {
    const end = Math.min(offset + sliceSize, total);
    const bytes = await blob.slice(offset, end).arrayBuffer();
    hash.update(new Uint8Array(bytes));
    await onSlice?.(bytes, index);
    onProgress?.(end, total);
  }
  if (total === 0) onProgress?.(0, 0);
  return bytesToHex(hash.digest());
}
