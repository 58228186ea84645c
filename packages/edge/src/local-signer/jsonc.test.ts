import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseJsonc } from "./jsonc.ts";
import { SIGNER_APP_DIR } from "./worker-bundle.ts";

describe("parseJsonc", () => {
  test.each([
    ['{"a":"x, ]"}', { a: "x, ]" }],
    ['{"a":"x,}"}', { a: "x,}" }],
    ['{"a":"x ,\\n }"}', { a: "x ,\n }" }],
    ['{"a":"// not a comment"}', { a: "// not a comment" }],
    ['{"a":"/* not a comment */"}', { a: "/* not a comment */" }],
    ['{"a":"quote \\" , ]"}', { a: 'quote " , ]' }],
    ['["https://example.com/x", "a,]"]', ["https://example.com/x", "a,]"]],
  ])("keeps string contents verbatim: %s", (text, expected) => {
    expect(parseJsonc(text)).toEqual(expected);
  });

  test("drops line and block comments and trailing commas, as in wrangler.jsonc", () => {
    const text = `// leading comment
{
  "name": "x", // after a value
  /* a block
     comment */
  "flags": ["a", "b",],
  "nested": { "on": true, },
}
`;
    expect(parseJsonc(text)).toEqual({ name: "x", flags: ["a", "b"], nested: { on: true } });
  });

  test("reads apps/signer/wrangler.jsonc", async () => {
    const config = parseJsonc(await readFile(join(SIGNER_APP_DIR, "wrangler.jsonc"), "utf8"));
    expect(config).toMatchObject({ name: "edgeca-signer", main: "src/index.ts", compatibility_date: "2026-08-01", workers_dev: false });
  });

  test.each([
    ['{"a": 1', "CloseBraceExpected"],
    ['{"a" 1}', "ColonExpected"],
    ['{"a": tru}', "InvalidSymbol"],
    ["", "ValueExpected"],
    ['{"a": 1} {"b": 2}', "EndOfFileExpected"],
  ])("refuses %j naming the error and where it is", (text, code) => {
    expect(() => parseJsonc(text)).toThrow(new RegExp(`${code} at line 1, column \\d+`));
  });
});
