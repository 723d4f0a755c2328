// A small parser for ClickHouse type names as `DESCRIBE TABLE` / system.columns
// print them, e.g. `Map(LowCardinality(String), Array(Nullable(Decimal(18, 8))))`.

export interface ChType {
  /** Type constructor name, e.g. `Nullable`, `DateTime64`, `String`. */
  name: string;
  /** Raw argument strings, split at top-level commas and trimmed. */
  args: string[];
  /** The full type text as given. */
  text: string;
}

/** Splits `a, b(c, d), 'e,f'` at top-level commas, respecting parentheses and quotes. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

export function parseChType(text: string): ChType {
  const t = text.trim();
  const open = t.indexOf('(');
  if (open < 0 || !t.endsWith(')')) return { name: t, args: [], text: t };
  return { name: t.slice(0, open).trim(), args: splitTopLevel(t.slice(open + 1, -1)), text: t };
}

/** `'UTC'` → `UTC`. */
export function unquote(s: string): string {
  const m = /^'(.*)'$/s.exec(s.trim());
  return m ? (m[1] ?? '').replace(/\\'/g, "'") : s.trim();
}

/** Backtick-quotes a ClickHouse identifier. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}
