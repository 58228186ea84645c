/**
 * Runs an image's command the way a container runtime would, without one: in a private mount namespace, a
 * root filesystem holding only the image's copied files, mounted read-only (readOnlyRootFilesystem), a
 * memory-backed /tmp (the Deployment's emptyDir), the pod's volumes as files with the modes and group the
 * kubelet gives them, and the process as the pod's non-root user. Host pieces the image would carry are
 * bind-mounted read-only: Node (distroless/nodejs has it at /nodejs), the shared libraries under /usr and
 * the CA certificates. Needs root (mounts) and util-linux's unshare and setpriv.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { collectOutput } from "../support/child-output.ts";
import type { ImageSpec } from "./dockerfile.ts";

export interface PodFile {
  /** Absolute path inside the container (a volume's mountPath plus the key). */
  readonly path: string;
  readonly content: string;
  /** The volume's defaultMode (or the item's mode). */
  readonly mode: number;
}

export interface PodSpec {
  readonly image: ImageSpec;
  readonly files: readonly PodFile[];
  /** The container's environment as the kubelet resolves it (the image's ENV lies beneath it). */
  readonly env: Readonly<Record<string, string>>;
  readonly runAsUser: number;
  readonly runAsGroup: number;
  /** Owns the volume files (group) and is a supplementary group of the process, as in a pod. */
  readonly fsGroup: number;
  readonly tmpSize: string;
}

export interface PodProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Kills the process if it still runs and removes the root filesystem. */
  dispose(): Promise<void>;
}

// The image's base (distroless) sets these; the host's are not the container's.
const BASE_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt" };

const SCRIPT = `set -euo pipefail
root=$1 node=$2 uid=$3 gid=$4 groups=$5 wd=$6 tmp=$7; shift 7
mount --bind "$root" "$root"
mount --bind -o ro /usr "$root/usr"
mount --bind -o ro "$node" "$root/nodejs"
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --bind -o ro /etc/ssl/certs "$root/etc/ssl/certs"
mount -o remount,ro,bind "$root"
mount -t tmpfs -o "size=$tmp,mode=1777" tmpfs "$root/tmp"
exec unshare --root="$root" --wd="$wd" /usr/bin/setpriv --reuid="$uid" --regid="$gid" --groups="$groups" --inh-caps=-all -- "$@"
`;

async function prepareRoot(spec: PodSpec): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "edgeca-pod-root-"));
  // "/" itself must be traversable by the non-root user.
  await chmod(root, 0o755);
  for (const dir of ["usr", "nodejs", "proc", "dev", "etc/ssl/certs", "tmp", spec.image.workdir.slice(1)]) await mkdir(join(root, dir), { recursive: true, mode: 0o755 });
  for (const [link, target] of [["lib", "usr/lib"], ["lib64", "usr/lib64"], ["bin", "usr/bin"], ["sbin", "usr/sbin"]] as const) await symlink(target, join(root, link));
  for (const copy of spec.image.copies) {
    await mkdir(join(root, dirname(copy.dest)), { recursive: true, mode: 0o755 });
    await copyFile(copy.local, join(root, copy.dest));
    await chmod(join(root, copy.dest), 0o644);
  }
  for (const file of spec.files) {
    await mkdir(join(root, dirname(file.path)), { recursive: true, mode: 0o755 });
    await writeFile(join(root, file.path), file.content);
    await chown(join(root, file.path), 0, spec.fsGroup);
    await chmod(join(root, file.path), file.mode);
  }
  return root;
}

/** Starts `spec.image.command` in the sandbox; stdout and stderr are collected in `output()`. */
export async function startPod(spec: PodSpec): Promise<PodProcess> {
  const [entry, ...args] = spec.image.command;
  if (entry !== "/nodejs/bin/node") throw new Error(`the image's entry point ${String(entry)} is not distroless/nodejs's /nodejs/bin/node`);
  const major = /nodejs(\d+)/.exec(spec.image.base)?.[1];
  if (major !== process.versions.node.split(".")[0]) throw new Error(`the image's base ${spec.image.base} runs Node ${String(major)}; this is Node ${process.versions.node}`);
  const root = await prepareRoot(spec);
  const nodeRoot = dirname(dirname(process.execPath));
  const groups = String(spec.fsGroup);
  const child = spawn(
    "/usr/bin/unshare",
    ["--mount", "--propagation", "private", "/bin/bash", "-c", SCRIPT, "bash", root, nodeRoot, String(spec.runAsUser), String(spec.runAsGroup), groups, spec.image.workdir, spec.tmpSize, entry, ...args],
    { env: { ...BASE_ENV, ...spec.image.env, ...spec.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const { output, exited } = collectOutput(child);
  return {
    child,
    exited,
    output,
    dispose: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
