// IndexedDB for the outbox tests, without a browser, and a sealing key as if someone had signed in.
import "fake-indexeddb/auto";
import { beforeEach } from "vitest";
import type { User } from "./lib/types";
import { useVaultForTests } from "./lib/vault";

const user = { id: "sam", email: "", display_name: "Sam", role: "victim" } as unknown as User;

beforeEach(async () => {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  useVaultForTests({ user, proof: "proof", key });
});
