// Size-optimises the release github.wasm with Binaryen's wasm-opt (pinned in package.json, run
// from its own JS/wasm build so no native package is needed). `cargo xtask build` calls this
// after cargo: rustc's `opt-level = "z"` + LTO leaves ~12 % that wasm-opt removes.
//
// Usage: node wasm-opt.mjs <input.wasm> <output.wasm>
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node wasm-opt.mjs <input.wasm> <output.wasm>");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve("binaryen/package.json")), "bin", "wasm-opt");
// The features rustc 1.95 enables by default for wasm32-wasip1; wasmtime 48 supports all of them.
const features = [
  "--enable-bulk-memory",
  "--enable-bulk-memory-opt",
  "--enable-sign-ext",
  "--enable-nontrapping-float-to-int",
  "--enable-mutable-globals",
  "--enable-reference-types",
  "--enable-multivalue",
];
const run = spawnSync(process.execPath, [bin, "-Oz", "--converge", ...features, input, "-o", output], {
  stdio: ["ignore", "inherit", "pipe"],
  encoding: "utf8",
});
if (run.status !== 0) {
  // wasm-opt prints every validation failure; the first lines say which feature is missing.
  console.error((run.stderr ?? "").split("\n").slice(0, 20).join("\n"));
  console.error(`wasm-opt failed (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
