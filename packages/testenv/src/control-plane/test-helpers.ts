// Helpers for this folder's tests (not exported from the package).
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

/** A DNS-1123 name unique to this run, so tests sharing one control plane never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * Calls `attempt` until `done` accepts its result or `timeoutMs` passes, and returns the last result.
 * For effects that are eventually consistent by design, e.g. RBAC: the authorizer reads bindings from
 * an informer cache, so a new binding takes effect a moment after the write returns.
 */
export async function eventually<T>(attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

/** A Role/ClusterRole rule. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** ClusterRole + ClusterRoleBinding objects granting `rules` to a ServiceAccount. */
export function clusterGrant(name: string, namespace: string, serviceAccount: string, rules: readonly PolicyRule[]): [unknown, unknown] {
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
    },
  ];
}

