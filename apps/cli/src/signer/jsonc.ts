/**
 * Reads JSON with comments and trailing commas (wrangler.jsonc). Strings are copied verbatim, so `//`
 * inside a URL survives; the result goes through `JSON.parse`, which reports anything else.
 */
export function parseJsonc(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i += 1;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  // A comma followed only by whitespace and a closing bracket is a trailing comma.
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}
