// Library mode → one self-contained ESM file, dist/mcp.js. Paca's MCP server may import it from a
// `data:` URL, where no bare module specifier can resolve, so nothing is external.
//
// PACA_MCP_TOOLS_JSON / PACA_MCP_OUT_DIR build the same bundle over another tools.json (the tests
// use them to show that a changed spec changes the tools with no hand-written code).
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const tools = process.env.PACA_MCP_TOOLS_JSON;

export default defineConfig({
  resolve: {
    alias: tools ? [{ find: /^\.\/generated\/tools\.json$/, replacement: resolve(tools) }] : [],
  },
  build: {
    lib: {
      entry: fileURLToPath(new URL("src/index.ts", import.meta.url)),
      formats: ["es"],
      fileName: () => "mcp.js",
    },
    outDir: process.env.PACA_MCP_OUT_DIR ?? "dist",
    emptyOutDir: true,
    target: "es2022",
    minify: false,
    rollupOptions: { external: [] },
  },
});
