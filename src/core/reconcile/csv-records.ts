// One CSV record from one or more physical lines (RFC 4180 quoting). Returns
// null while a quoted cell is still open, so the caller joins the next line.
export function splitRecord(text: string, delimiter = ","): string[] | null {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  let at_start = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += char;
      continue;
    }
    if (char === '"' && at_start) {
      quoted = true;
      at_start = false;
      continue;
    }
    if (char === delimiter) {
      cells.push(cell);
      cell = "";
      at_start = true;
      continue;
    }
    cell += char;
    // Leading spaces or a backtick before a quote still start a quoted cell in hand-made bills; keep it plain.
    at_start = false;
  }
  if (quoted) return null;
  cells.push(cell);
  return cells;
}
