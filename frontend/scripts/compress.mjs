// Precompresses the built app's text files (brotli and gzip, at their highest levels) next to
// each file, as NAME.br and NAME.gz. The server sends one of them to a browser that asks
// (Accept-Encoding), so the app is compressed once here instead of on every request.

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const TEXT = /\.(?:js|mjs|css|html|webmanifest|json|svg|txt)$/;

function* files(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (TEXT.test(name)) yield path;
  }
}

let plain = 0;
let brotli = 0;
let gzip = 0;
for (const path of files(dist)) {
  const data = readFileSync(path);
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gz);
  plain += data.length;
  brotli += br.length;
  gzip += gz.length;
}
const kb = (bytes) => (bytes / 1024).toFixed(1);
console.log(`Precompressed the app's text files: ${kb(plain)} KB, ${kb(brotli)} KB brotli, ${kb(gzip)} KB gzip.`);
