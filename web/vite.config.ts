import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The console is built into web/dist and served by `clearsplit serve` at `/`.
// `clearsplit/verify` is the repository's own standalone verifier (src/verify):
// the browser checks proof bundles with exactly the code the CLI uses.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  publicDir: false,
  resolve: { alias: { "clearsplit/verify": here("../src/verify/index.ts") } },
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // Ant Design marks its modules "use client" for React Server Components; a client bundle ignores it.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  logLevel: "warn",
});
