/**
 * Reads how apps/shim/Dockerfile runs the shim, so the image test runs the bundle the same way without a
 * Docker engine: the final stage's base, WORKDIR, USER, ENV, the files it copies from the build stage, and
 * the command (the base image's ENTRYPOINT followed by CMD). Only the exec (JSON) form of CMD/ENTRYPOINT
 * is accepted: the distroless base has no shell to run the shell form.
 */
import { readFile } from "node:fs/promises";

/** ENTRYPOINTs of the base images we know (distroless/nodejs: node itself, at /nodejs/bin/node). */
const BASE_ENTRYPOINTS: ReadonlyArray<{ readonly image: RegExp; readonly entrypoint: readonly string[] }> = [
  { image: /^gcr\.io\/distroless\/nodejs\d+-debian\d+(:[\w.-]+)?$/, entrypoint: ["/nodejs/bin/node"] },
];

export interface ImageCopy {
  /** Path of the copied file on this machine (the build stage's WORKDIR is the repository root). */
  readonly local: string;
  /** Where the image has it. */
  readonly dest: string;
}

export interface ImageSpec {
  readonly base: string;
  readonly workdir: string;
  readonly uid: number;
  readonly gid: number;
  readonly env: Readonly<Record<string, string>>;
  /** ENTRYPOINT then CMD, as the container runtime joins them. */
  readonly command: readonly string[];
  readonly copies: readonly ImageCopy[];
}

interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  workdir: string;
  user: string | undefined;
  readonly env: Record<string, string>;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  readonly copies: { from: string; src: string; dest: string }[];
}

function execForm(instruction: string, args: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(`Dockerfile ${instruction} ${args}: only the exec (JSON array) form runs on a base without a shell`);
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`Dockerfile ${instruction} ${args}: not an array of strings`);
  return parsed;
}

function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  for (const line of lines) {
    const [, instruction = "", args = ""] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const op = instruction.toUpperCase();
    if (op === "FROM") {
      const [, base = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name, base, workdir: "/", user: undefined, env: {}, entrypoint: undefined, cmd: undefined, copies: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage === undefined) throw new Error(`Dockerfile: ${op} before FROM`);
    if (op === "WORKDIR") stage.workdir = args.startsWith("/") ? args : `${stage.workdir.replace(/\/$/, "")}/${args}`;
    else if (op === "USER") stage.user = args;
    else if (op === "ENV") for (const [, k = "", v = ""] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[k] = v.replace(/^"|"$/g, "");
    else if (op === "ENTRYPOINT") stage.entrypoint = execForm(op, args);
    else if (op === "CMD") stage.cmd = execForm(op, args);
    else if (op === "COPY") {
      const [, from, src = "", dest = ""] = /^(?:--from=(\S+)\s+)?(\S+)\s+(\S+)$/.exec(args) ?? [];
      if (from !== undefined) stage.copies.push({ from, src, dest });
    }
  }
  return stages;
}

/** Reads the Dockerfile at `path`; `repoRoot` is the build context (the build stage's WORKDIR maps to it). */
export async function readImageSpec(path: string, repoRoot: string): Promise<ImageSpec> {
  const stages = parseStages(await readFile(path, "utf8"));
  const final = stages[stages.length - 1];
  if (final === undefined) throw new Error(`${path}: no FROM`);
  const known = BASE_ENTRYPOINTS.find((b) => b.image.test(final.base));
  const entrypoint = final.entrypoint ?? known?.entrypoint;
  if (entrypoint === undefined) throw new Error(`${path}: no ENTRYPOINT and the base ${final.base} is not one whose ENTRYPOINT is known`);
  const [, uid = "", gid = uid] = /^(\d+)(?::(\d+))?$/.exec(final.user ?? "") ?? [];
  if (uid === "") throw new Error(`${path}: USER ${final.user ?? "(none)"} is not numeric uid[:gid] (runAsNonRoot needs a numeric USER)`);
  const copies = final.copies.map(({ from, src, dest }) => {
    const stage = stages.find((s) => s.name === from);
    if (stage === undefined || !src.startsWith(`${stage.workdir}/`)) throw new Error(`${path}: COPY --from=${from} ${src}: not under that stage's WORKDIR`);
    return { local: `${repoRoot.replace(/\/$/, "")}/${src.slice(stage.workdir.length + 1)}`, dest: dest.startsWith("/") ? dest : `${final.workdir}/${dest}` };
  });
  return { base: final.base, workdir: final.workdir, uid: Number(uid), gid: Number(gid), env: final.env, command: [...entrypoint, ...(final.cmd ?? [])], copies };
}
