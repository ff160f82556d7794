// Starts a real Waymark server on a free port with a fresh data folder, serving the built PWA,
// and makes an organisation and an advocate with the CLI, as an operator would.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "..", "..");
export const WAYMARK = join(ROOT, ".venv", "bin", "waymark");
const STATE = join(__dirname, ".server.json");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function cli(env: NodeJS.ProcessEnv, args: string[], input?: string): string {
  const run = spawnSync(WAYMARK, args, { env, input, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`waymark ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "waymark-e2e-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WAYMARK_DATA_DIR: dataDir,
    WAYMARK_PORT: String(port),
    WAYMARK_HOST: "127.0.0.1",
    WAYMARK_STATIC_DIR: join(ROOT, "frontend", "dist"),
    WAYMARK_LOG_LEVEL: "WARNING",
  };
  cli(env, ["migrate"]);
  cli(env, ["org", "create", "Crossroads"]);
  const advocate = { email: "jo@crossroads.example", password: "lantern orchard velvet compass", name: "Jo Advocate" };
  cli(env, ["advocate", "create", "--org", "Crossroads", "--email", advocate.email, "--name", advocate.name, "--password-stdin"], `${advocate.password}\n`);

  const log = openSync(join(dataDir, "server.log"), "a");
  const server = spawn(WAYMARK, ["serve"], { env, stdio: ["ignore", log, log], detached: false });
  const baseURL = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(`${baseURL}/api/v1/health`);
      if (response.ok) break;
    } catch {
      /* not up yet */
    }
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}); see ${dataDir}/server.log`);
    if (Date.now() - started > 60_000) throw new Error("the server did not start within a minute");
    await new Promise((wait) => setTimeout(wait, 250));
  }
  process.env.E2E_BASE_URL = baseURL;
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_ROOT = ROOT;
  process.env.E2E_ADVOCATE_EMAIL = advocate.email;
  process.env.E2E_ADVOCATE_PASSWORD = advocate.password;
  writeFileSync(STATE, JSON.stringify({ pid: server.pid, dataDir }));
}

export { STATE };
