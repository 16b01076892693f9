// The Module Federation remote Paca loads: `dist/assets/remoteEntry.js`, container name
// `com_paca_github`, exposing the two components named in plugin.json. React, ReactDOM and
// TanStack Query come from Paca's share scope (keys 19.0.0 / 5.0.0), never a second copy.
import federation from "@originjs/vite-plugin-federation";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    react(),
    federation({
      name: "com_paca_github",
      filename: "remoteEntry.js",
      exposes: {
        "./GitHubSettingsTab": "./src/GitHubSettingsTab.tsx",
        "./GitHubTaskSection": "./src/GitHubTaskSection.tsx",
      },
      shared: {
        react: { requiredVersion: "^19.0.0" },
        "react-dom": { requiredVersion: "^19.0.0" },
        "@tanstack/react-query": { requiredVersion: "^5.0.0" },
      },
    }),
  ],
  build: {
    target: "esnext",
    minify: false,
    cssCodeSplit: false,
    outDir: "dist",
    emptyOutDir: true,
    // no app entry: the federation plugin emits remoteEntry.js and the exposed chunks
    rollupOptions: { input: {} },
  },
});
