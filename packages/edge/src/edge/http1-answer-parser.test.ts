import { describe, expect, it } from "vitest";
import { AnswerSyntaxError, parseAnswer } from "./http1-answer-parser.ts";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

describe("parseAnswer", () => {
  it("reads a Content-Length answer, waiting for the whole body, and leaves what follows", () => {
    const full = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    expect(parseAnswer(bytes(full.slice(0, 40)), "GET", false)).toBeUndefined();
    expect(parseAnswer(bytes(full.slice(0, full.length - 1)), "GET", false)).toBeUndefined();
    const answer = parseAnswer(bytes(`${full}HTTP`), "GET", false);
    expect(answer).toMatchObject({ status: 200, rawHeaders: ["Content-Type", "text/plain", "Content-Length", "5"], reusable: true });
    expect(answer?.body.toString()).toBe("hello");
    expect(answer?.rest.toString()).toBe("HTTP");
  });

  it("decodes chunked transfer coding with extensions and trailers", () => {
    const text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 2\r\n\r\n";
    expect(parseAnswer(bytes(text.slice(0, text.length - 2)), "GET", false)).toBeUndefined();
    expect(parseAnswer(bytes(text), "GET", false)?.body.toString()).toBe("hello!");
    expect(parseAnswer(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), "GET", false)?.body.length).toBe(0);
  });

  it("skips interim 1xx answers, gives HEAD, 204 and 304 no body, and reads a close-framed body at the end", () => {
    expect(parseAnswer(bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), "POST", false)?.status).toBe(204);
    expect(parseAnswer(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), "HEAD", false)?.body.length).toBe(0);
    const open = bytes("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    expect(parseAnswer(open, "GET", false)).toBeUndefined();
    expect(parseAnswer(open, "GET", true)).toMatchObject({ status: 200, reusable: false });
  });

  it("marks Connection: close and HTTP/1.0 answers as not reusable", () => {
    expect(parseAnswer(bytes("HTTP/1.1 413 x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), "POST", false)?.reusable).toBe(false);
    expect(parseAnswer(bytes("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), "GET", false)?.reusable).toBe(false);
  });

  it("refuses what is not HTTP/1.1, naming the part", () => {
    const bad = (s: string, ended = false) => () => parseAnswer(bytes(s), "GET", ended);
    expect(bad("SSH-2.0-x\r\n\r\n")).toThrow(/bad status line "SSH-2.0-x"/);
    expect(bad("HTTP/1.1 200 OK\r\nno colon\r\n\r\n")).toThrow(/bad header line "no colon"/);
    expect(bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")).toThrow(/bad content-length "2"/);
    expect(bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")).toThrow(/bad chunk size "zz"/);
    expect(bad("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", true)).toThrow(/closed after 3 of 9 body bytes/);
    expect(bad("HTTP/1.1 200", true)).toThrow(AnswerSyntaxError);
  });
});
