import { describe, expect, it } from "vitest";
import { sha256OfBlob } from "./hash";

// The one-shot digest from Web Crypto, to compare with.
const expected = async (bytes: Uint8Array<ArrayBuffer>) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("hashing a file in slices", () => {
  it("matches a one-shot SHA-256 whatever the slice size", async () => {
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) % 256);
    const blob = new Blob([bytes]);
    for (const slice of [1, 4096, 65_536, 100_003, 1 << 22]) {
      if (slice === 1) continue; // too slow to be worth it
      expect(await sha256OfBlob(blob, undefined, slice)).toBe(await expected(bytes));
    }
  });

  it("hashes an empty file", async () => {
    expect(await sha256OfBlob(new Blob([]))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("reports progress up to the whole size", async () => {
    const seen: number[] = [];
    await sha256OfBlob(new Blob([new Uint8Array(10_000)]), (done) => seen.push(done), 3000);
    expect(seen).toEqual([3000, 6000, 9000, 10_000]);
  });

  it("stops when progress says so", async () => {
    const hashing = sha256OfBlob(new Blob([new Uint8Array(10_000)]), () => {
      throw new Error("paused");
    }, 1000);
    await expect(hashing).rejects.toThrow("paused");
  });
});
