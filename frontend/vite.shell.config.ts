// The dev shell: a stand-in for Paca's web app that devhost serves at /__devhost/shell/. It owns
// React, ReactDOM and TanStack Query and hands them to the remote through the share scope.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: "shell",
  base: "/__devhost/shell/",
  plugins: [react()],
  build: {
    target: "esnext",
    outDir: "../dist-shell",
    emptyOutDir: true,
    minify: false,
  },
});
