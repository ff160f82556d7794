import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { STATE } from "./global-setup";

export default async function globalTeardown(): Promise<void> {
  if (!existsSync(STATE)) return;
  const { pid, dataDir } = JSON.parse(readFileSync(STATE, "utf8")) as { pid: number; dataDir: string };
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  await new Promise((wait) => setTimeout(wait, 500));
  // The server's log outlives the data folder, for reading after a failure.
  const log = join(dataDir, "server.log");
  if (existsSync(log)) {
    mkdirSync(join(__dirname, "test-results"), { recursive: true });
    copyFileSync(log, join(__dirname, "test-results", "server.log"));
  }
  if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  rmSync(STATE, { force: true });
}
