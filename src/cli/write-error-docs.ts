import { writeFileSync } from "node:fs";
import { renderErrorsMarkdown } from "../core/error-docs.ts";

// `npm run docs:errors`: regenerate docs/errors.md from the error catalogue.
const target = new URL("../../docs/errors.md", import.meta.url);
writeFileSync(target, renderErrorsMarkdown());
process.stdout.write(`wrote ${target.pathname}\n`);
