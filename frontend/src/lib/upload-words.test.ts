import { describe, expect, it } from "vitest";
import { uploadWords } from "./upload-words";
import type { UploadView } from "./uploads";

const MB = 1_000_000;
const file = (changes: Partial<UploadView>): UploadView => ({
  id: "u",
  name: "doorbell.mp4",
  size: 60 * MB,
  status: "uploading",
  done: 0,
  total: 60 * MB,
  ...changes,
});

describe("what the list says about a file", () => {
  it("counts what the server confirmed while sending", () => {
    expect(uploadWords(file({ done: 54 * MB })).status).toBe("Sending – 90% on the server (54 MB of 60 MB)");
  });

  it("says when it carries on from what the server already had", () => {
    expect(uploadWords(file({ done: 54 * MB, resumedFrom: 54 * MB })).note).toBe(
      "Carrying on from 54 MB that was already on the server.",
    );
    expect(uploadWords(file({ done: 4 * MB })).note).toBeUndefined();
  });

  it("keeps what is on the server after a dropped signal, instead of 0 %", () => {
    const words = uploadWords(file({ status: "waiting", done: 54 * MB }));
    expect(words.status).toBe("Waiting to send the rest – 54 MB of 60 MB on the server");
    expect(words.note).toBe("It carries on from there, not from the start.");
    expect(uploadWords(file({ status: "waiting" })).status).toBe("Waiting to send");
    expect(uploadWords(file({ status: "paused", done: 12 * MB })).status).toBe("Paused – 12 MB of 60 MB on the server");
  });

  it("says saved on the server only once the upload has finished", () => {
    expect(uploadWords(file({ done: 60 * MB })).status).not.toMatch(/saved/i);
    expect(uploadWords(file({ status: "done", done: 60 * MB })).status).toBe("Saved on the server");
    expect(uploadWords(file({ status: "hashing", done: 30 * MB })).status).toBe("Checking the file – 50%");
  });
});
