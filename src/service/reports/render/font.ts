import { existsSync } from "node:fs";
import { DomainError } from "../../../core/errors.ts";
import type { ReportLang } from "../../../core/reports/format.ts";

// PDFs embed a CJK font so Chinese renders everywhere (a PDF that relies on
// the reader's fonts prints boxes). The font is found at run time: the path in
// CLEARSPLIT_CJK_FONT, else Noto Sans CJK where Debian (fonts-noto-cjk),
// Fedora, Arch and Alpine install it. Missing, the PDF is refused clearly.

const candidate_paths = [
  "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
  "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
  "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
  "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
  "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
];

export interface CjkFont {
  path: string;
  /** The face inside a collection (.ttc) for the language; undefined for a single-face file. */
  family: string | undefined;
}

export function findCjkFont(lang: ReportLang, env: NodeJS.ProcessEnv = process.env): CjkFont {
  const configured = env.CLEARSPLIT_CJK_FONT;
  if (configured !== undefined && configured !== "") {
    if (!existsSync(configured))
      throw new DomainError(
        "report_font_missing",
        `CLEARSPLIT_CJK_FONT names ${configured}, which does not exist`,
        "format",
      );
    return { path: configured, family: faceOf(configured, lang) };
  }
  const found = candidate_paths.find((path) => existsSync(path));
  if (found === undefined)
    throw new DomainError(
      "report_font_missing",
      "PDF reports need a CJK font: install Noto Sans CJK (Debian: apt-get install fonts-noto-cjk) or set CLEARSPLIT_CJK_FONT to a .ttf/.otf/.ttc file",
      "format",
    );
  return { path: found, family: faceOf(found, lang) };
}

function faceOf(path: string, lang: ReportLang): string | undefined {
  if (!path.toLowerCase().endsWith(".ttc")) return undefined;
  const serif = /serif/i.test(path) ? "Serif" : "Sans";
  const region = lang === "zh-TW" ? "tc" : "sc";
  return `Noto${serif}CJK${region}-Regular`;
}
