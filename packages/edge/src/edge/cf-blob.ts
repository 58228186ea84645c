/**
 * The `cf` object the edge hands workerd, as the JSON of its cf-blob header. It depends only on the client
 * certificate a connection presented (and OpenSSL's verdict on it), so it is built once per connection and
 * kept per certificate across connections: describing a certificate (tls-client-auth.ts) costs
 * milliseconds, and a client that reconnects presents the same one.
 */
import type { TLSSocket } from "node:tls";
import { NO_CLIENT_CERTIFICATE, presentedOn, tlsClientAuthFor, type TlsClientAuth } from "./tls-client-auth.ts";

/** The `cf` object the emulator hands the upstream (only the part the signer reads). */
export interface EdgeRequestCf {
  readonly tlsClientAuth: TlsClientAuth;
}

/** Certificates remembered; past this the oldest is forgotten (a blob is about 2–3 KB). */
const MAX_CERTIFICATES = 256;

/** Header values are bytes: non-ASCII (a UTF-8 name in a DN) travels as JSON escapes, which parse the same. */
function blobOf(cf: EdgeRequestCf): string {
  return JSON.stringify(cf).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const WITHOUT_CERTIFICATE = blobOf({ tlsClientAuth: NO_CLIENT_CERTIFICATE });

export class CfBlobs {
  readonly #byConnection = new WeakMap<TLSSocket, string>();
  readonly #byCertificate = new Map<string, string>();
  /** How many times a certificate was described (not found in memory). */
  described = 0;

  /** The cf blob for requests on `socket`. */
  for(socket: TLSSocket): string {
    let blob = this.#byConnection.get(socket);
    if (blob !== undefined) return blob;
    const on = presentedOn(socket);
    if (on === undefined) blob = WITHOUT_CERTIFICATE;
    else {
      blob = this.#byCertificate.get(on.key);
      if (blob === undefined) {
        this.described += 1;
        blob = blobOf({ tlsClientAuth: tlsClientAuthFor(on.presented) });
        if (this.#byCertificate.size >= MAX_CERTIFICATES) this.#byCertificate.delete(this.#byCertificate.keys().next().value ?? "");
        this.#byCertificate.set(on.key, blob);
      }
    }
    this.#byConnection.set(socket, blob);
    return blob;
  }
}
