// A waiting file as the upload reads it: the File itself while the page that chose it is open,
// otherwise its sealed pieces in IndexedDB (lib/outbox.ts), opened one at a time as tus asks for
// bytes, so neither the whole file nor its plain bytes are ever held longer than one chunk.

import { getPiece, PIECE_SIZE } from "./outbox";

export interface FileBytes {
  size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A piece is missing or will not open with this key: the file must be chosen again. */
export class UnreadableFile extends Error {}

export function bytesOfBlob(blob: Blob): FileBytes {
  return { size: blob.size, read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()) };
}

export function bytesOfPieces(id: string, size: number, pieceSize = PIECE_SIZE): FileBytes {
  // tus resumes from any offset: the piece read last is kept for the chunk that ends in it.
  let last: { index: number; bytes: Uint8Array } | null = null;
  async function piece(index: number): Promise<Uint8Array> {
    if (last?.index === index) return last.bytes;
    const opened = await getPiece(id, index);
    if (!opened) throw new UnreadableFile();
    last = { index, bytes: new Uint8Array(opened) };
    return last.bytes;
  }
  return {
    size,
    async read(start, end) {
      const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
      for (let at = start; at < start + out.length; ) {
        const index = Math.floor(at / pieceSize);
        const bytes = await piece(index);
        const from = at - index * pieceSize;
        const take = Math.min(bytes.length - from, start + out.length - at);
        if (take <= 0) throw new UnreadableFile();
        out.set(bytes.subarray(from, from + take), at - start);
        at += take;
      }
      return out;
    },
  };
}

/** tus-js-client's file reader for FileBytes (it wants Blobs back: it reads their size). */
export const fileBytesReader = {
  async openFile(input: FileBytes) {
    return {
      size: input.size,
      async slice(start: number, end: number) {
        const stop = Math.min(end, input.size);
        return { value: new Blob([(await input.read(start, stop)) as BlobPart]), done: stop >= input.size };
      },
      close() {},
    };
  },
};
