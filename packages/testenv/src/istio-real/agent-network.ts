/**
 * A network namespace for pilot-agents that holds only `lo`, with istiod reachable inside it at
 * 127.0.0.1:15012. Upstream's agent binds its status port on all interfaces and probes cloud metadata
 * addresses unless told otherwise; inside this namespace nothing it opens is reachable from outside, and
 * nothing it sends can leave the machine: there is no other interface and no route.
 *
 * The only way in is a forwarder: a small Node process inside the namespace listens on 127.0.0.1:15012
 * and passes each connection to a Unix socket; this process serves that socket and connects to istiod's
 * secure gRPC port on the host's loopback. Agents join the namespace with `nsenter --net`.
 *
 * Creating a namespace needs root (CAP_SYS_ADMIN) and `unshare`, `nsenter` and `ip`: `start` returns
 * undefined where that is refused, and agents then run in the host's namespace (status port on all
 * interfaces).
 */
import { spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessGroup, startWatchdog } from "../control-plane/process-group.ts";
import { logTail } from "./log-tail.ts";
import { waitUntil } from "./wait-until.ts";

/** Where istiod is inside the namespace (upstream's port; nothing else listens there). */
export const ISTIOD_INSIDE = "127.0.0.1:15012";

// Runs inside the namespace: 127.0.0.1:15012 → the Unix socket given as the first argument.
const FORWARDER = `
const net = require("node:net");
const socketPath = process.argv[1];
net.createServer((c) => {
  const u = net.connect(socketPath);
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
}).listen(15012, "127.0.0.1", () => console.log("forwarder listening on 127.0.0.1:15012"));
`;

export class AgentNetwork {
  private nextPort = 15020;

  private readonly watchdog: ChildProcess;

  private constructor(
    private readonly holder: ProcessGroup,
    private readonly bridge: Server,
    private readonly sockets: Set<Socket>,
    private readonly dir: string,
  ) {
    this.watchdog = startWatchdog(process.pid, [holder.pid], "");
  }

  /** Whether this machine lets us create a network namespace (root, unshare, ip). */
  static supported(): boolean {
    const probe = spawnSync("unshare", ["-n", "--", "ip", "link", "set", "lo", "up"], { stdio: "ignore", timeout: 10_000 });
    return probe.status === 0 && spawnSync("nsenter", ["--version"], { stdio: "ignore" }).status === 0;
  }

  /** Creates the namespace and the path to istiod (`istiodAddress` on the host's loopback). */
  static async start(istiodAddress: string): Promise<AgentNetwork | undefined> {
    if (!AgentNetwork.supported()) return undefined;
    const [host, port] = splitAddress(istiodAddress);
    // A short path: Unix socket paths are limited to 108 bytes.
    const dir = await mkdtemp(join(tmpdir(), "edgeca-ns-"));
    const socketPath = join(dir, "istiod.sock");
    const sockets = new Set<Socket>();
    const bridge = createServer((inside) => {
      const outside = connect({ host, port });
      for (const s of [inside, outside]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      }
      inside.pipe(outside).pipe(inside);
      inside.on("error", () => outside.destroy());
      outside.on("error", () => inside.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      bridge.once("error", reject);
      bridge.listen(socketPath, resolve);
    });
    const logFile = join(dir, "forwarder.log");
    const script = `ip link set lo up && exec "$0" -e "$1" "$2"`;
    const holder = ProcessGroup.start("agent network namespace", "unshare", ["-n", "--", "sh", "-c", script, process.execPath, FORWARDER, socketPath], logFile);
    const network = new AgentNetwork(holder, bridge, sockets, dir);
    try {
      await waitUntil({
        probe: async () => ((await readFile(logFile, "utf8").catch(() => "")).includes("listening") ? true : undefined),
        timeoutMs: 30_000,
        alive: () => holder.running,
        failure: async (why) => new Error(`the agents' network namespace did not come up (${why}); ${logFile}:\n${await logTail(logFile)}`),
      });
    } catch (error) {
      await network.stop();
      throw error;
    }
    return network;
  }

  /** The command line that runs `command args…` inside the namespace. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: "nsenter", args: [`--net=/proc/${String(this.holder.pid)}/ns/net`, "--", command, ...args] };
  }

  /** A status port for the next agent (inside the namespace only; agents share it, so each gets its own). */
  statusPort(): number {
    return this.nextPort++;
  }

  async stop(): Promise<void> {
    await this.holder.stop();
    this.watchdog.kill("SIGKILL");
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.bridge.close(() => { resolve(); }));
    await rm(this.dir, { recursive: true, force: true });
  }
}

function splitAddress(address: string): [string, number] {
  const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(address);
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`istiod address ${JSON.stringify(address)} is not 127.0.0.1:<port>`);
  return [match[1], Number(match[2])];
}
