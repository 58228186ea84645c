/**
 * `@edgeca/shared/testing`: CSRs for tests, made by an independent library (library-csr.ts) or byte by
 * byte for encodings no library writes (crafted-csr.ts). Runtime-neutral (WebCrypto only, as the rest of
 * the package), so Node tests and the Worker's workerd tests can both load it. Production code must not:
 * eslint.config.js refuses this subpath, and any test/ path, in files under src/ other than tests.
 */
export * from "./crafted-csr.ts";
export * from "./library-csr.ts";
