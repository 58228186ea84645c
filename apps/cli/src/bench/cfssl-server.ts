/**
 * `cfssl serve` (Debian's golang-cfssl) as the benchmark's reference signer: a fresh P-256 CA made with
 * openssl in a temporary directory, the server on 127.0.0.1 at a free port, stopped and removed after.
 * A missing cfssl is installed with apt-get when running as root (CI, this project's machines);
 * otherwise the benchmark stops with the command to run.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const INSTALL_HINT = "install Debian's golang-cfssl: sudo apt-get install -y golang-cfssl";

/** cfssl is not installed and could not be installed here; the message says how to install it. */
export class CfsslMissingError extends Error {
  override readonly name = "CfsslMissingError";
}

export interface CfsslServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** PEM of the CA cfssl signs with. */
  readonly caPath: string;
  /** The cfssl process (for its CPU time). */
  readonly pid: number;
  stop(): Promise<void>;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** The cfssl binary, installing golang-cfssl first when missing and running as root. */
export async function ensureCfssl(log: (line: string) => void): Promise<string> {
  const found = onPath("cfssl");
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0 || onPath("apt-get") === undefined) throw new CfsslMissingError(`cfssl not found on PATH: ${INSTALL_HINT}`);
  log("cfssl missing: apt-get install -y golang-cfssl (running as root)");
  const install = () => run("apt-get", ["install", "-y", "golang-cfssl"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  try {
    await install();
  } catch {
    // A fresh machine may have no package lists yet.
    await run("apt-get", ["update"]).catch(() => undefined);
    await install().catch((error: unknown) => {
      throw new CfsslMissingError(`apt-get install -y golang-cfssl failed (${(error as Error).message.split("\n")[0] ?? ""}): ${INSTALL_HINT}`, { cause: error });
    });
  }
  const installed = onPath("cfssl");
  if (installed === undefined) throw new CfsslMissingError(`golang-cfssl installed but cfssl is not on PATH: ${INSTALL_HINT}`);
  return installed;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => { socket.destroy(); resolve(true); });
    socket.on("error", () => { resolve(false); });
  });

async function waitListening(child: ChildProcess, port: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`cfssl serve exited with ${child.exitCode}: ${stderr().slice(-800)}`);
    if (await accepts(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`cfssl serve did not listen on 127.0.0.1:${port} within 15 s: ${stderr().slice(-800)}`);
}

/** A P-256 CA (openssl) and `cfssl serve` signing with it on 127.0.0.1. */
export async function startCfssl(cfssl: string): Promise<CfsslServer> {
  const dir = await mkdtemp(join(tmpdir(), "edgeca-cfssl-"));
  const caPath = join(dir, "ca.pem");
  const keyPath = join(dir, "ca-key.pem");
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", caPath,
    "-subj", "/CN=cfssl bench CA", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const port = await freePort();
  const child = spawn(cfssl, ["serve", "-address", "127.0.0.1", "-port", String(port), "-ca", caPath, "-ca-key", keyPath, "-loglevel", "3"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(child, port, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) {
    await stop();
    throw new Error("cfssl serve: no process id after it started listening");
  }
  return { url: `http://127.0.0.1:${port}`, caPath, pid: child.pid, stop };
}
