/**
 * Reads JSON with comments and trailing commas (wrangler.jsonc) with `jsonc-parser`, the parser VS Code
 * uses: it tokenizes, so string contents are never touched. Its `parse` is lenient (it returns what it
 * could read and lists the errors); any error here is thrown, naming what was wrong and where.
 */
import { parse, printParseErrorCode } from "jsonc-parser";
import type { ParseError } from "jsonc-parser";

export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset).split("\n");
    const line = before.length;
    const column = (before.at(-1)?.length ?? 0) + 1;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new SyntaxError(`invalid JSONC: ${printParseErrorCode(first.error)} at line ${line}, column ${column}${more}`);
  }
  return value;
}
