/// <reference types="vitest/config" />
// Build the web app into ../static/app (committed, served by Django + whitenoise).
// File names carry a content hash; Django reads manifest.json to find them, and the
// generated service worker (sw.js) precaches exactly the files of this build.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const BASE = "/static/app/";

function serviceWorker(): Plugin {
  return {
    name: "hub-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((name) => name.startsWith("assets/"))
        .sort()
        .map((name) => BASE + name);
      const version = createHash("sha256").update(files.join("\n")).digest("hex").slice(0, 12);
      const template = readFileSync(new URL("./src/sw.template.js", import.meta.url), "utf8");
      const source = template
        .replace("__VERSION__", JSON.stringify(version))
        .replace("__ASSETS__", JSON.stringify(files));
      this.emitFile({ type: "asset", fileName: "sw.js", source });
    },
  };
}

export default defineConfig({
  base: BASE,
  plugins: [react(), serviceWorker()],
  publicDir: "public",
  build: {
    outDir: "../static/app",
    emptyOutDir: true,
    manifest: "manifest.json",
    target: "es2020",
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      input: "src/main.tsx",
      output: {
        entryFileNames: "assets/[name]-[hash].js",
        chunkFileNames: "assets/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
