// Measures what a first visit downloads (the JavaScript and CSS that index.html loads, with
// everything they import statically, plus the service worker), gzipped, and writes it into
// docs/benchmarks.md under "PWA first load". Fails the build over the budget.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 150;
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");
const docs = join(here, "..", "..", "docs", "benchmarks.md");

const gz = (path) => gzipSync(readFileSync(join(dist, path)), { level: 9 }).length;
const raw = (path) => readFileSync(join(dist, path)).length;

const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);

// Follow static imports (not dynamic import()) from every JavaScript file loaded at start.
const seen = new Set();
const queue = [...entry];
while (queue.length) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  if (!file.endsWith(".js")) continue;
  const code = readFileSync(join(dist, file), "utf8");
  for (const match of code.matchAll(/\bimport\s*(?:[^"'()]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
    queue.push(posix.normalize(posix.join(posix.dirname(file), match[1])));
  }
}

const workerCode = readFileSync(join(dist, "sw.js"), "utf8");
const worker = ["sw.js", ...new Set([...workerCode.matchAll(/workbox-[0-9a-f]+/g)].map((m) => `${m[0]}.js`))];
const files = [...seen].sort();
const sum = (list, measure) => list.reduce((total, file) => total + measure(file), 0);
const kb = (bytes) => (bytes / 1024).toFixed(1);

const appGz = sum(files, gz);
const workerGz = sum(worker, gz);
const totalGz = appGz + workerGz;
const lazy = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js") && !seen.has(`assets/${f}`));

const rows = [
  ...files.map((file) => `| ${file.replace(/-[\w-]{8}\./, ".")} | ${kb(raw(file))} | ${kb(gz(file))} |`),
  ...worker.map((file) => `| ${file.replace(/-[\w-]{8}\./, ".")} (service worker, fetched after the page loads) | ${kb(raw(file))} | ${kb(gz(file))} |`),
];
const section = `## PWA first load

What a phone downloads on its first visit: the JavaScript and CSS that \`index.html\` loads, with
everything they import statically, and the service worker. Measured by
\`frontend/scripts/measure-bundle.mjs\` on every \`npm run build\` (gzip level 9); the build fails
over the budget of ${BUDGET_KB} KB. Code fetched only when needed (${lazy.length} chunk${lazy.length === 1 ? "" : "s"}: the tus
client, loaded when a file is first sent) is not counted.

| file | KB | KB gzipped |
| --- | ---: | ---: |
${rows.join("\n")}
| **total** | | **${kb(totalGz)}** (app ${kb(appGz)}, service worker ${kb(workerGz)}) |

Budget: ${BUDGET_KB} KB gzipped. Used: ${kb(totalGz)} KB (${Math.round((totalGz / 1024 / BUDGET_KB) * 100)}%).
`;

const START = "<!-- pwa-first-load:start -->";
const END = "<!-- pwa-first-load:end -->";
const block = `${START}\n${section}${END}`;
// Only in a checkout: a build without the docs folder (the Docker image's) just reports.
if (existsSync(dirname(docs))) {
  let doc = existsSync(docs) ? readFileSync(docs, "utf8") : "# Benchmarks\n";
  if (doc.includes(START) && doc.includes(END)) {
    doc = doc.slice(0, doc.indexOf(START)) + block + doc.slice(doc.indexOf(END) + END.length);
  } else {
    doc = `${doc.replace(/\s*$/, "")}\n\n${block}\n`;
  }
  writeFileSync(docs, doc);
}
console.log(`PWA first load: ${kb(totalGz)} KB gzipped (app ${kb(appGz)}, service worker ${kb(workerGz)}); budget ${BUDGET_KB} KB.`);
if (totalGz > BUDGET_KB * 1024) {
  console.error(`Over the ${BUDGET_KB} KB budget.`);
  process.exit(1);
}
