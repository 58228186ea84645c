/**
 * Warning Events (events.k8s.io/v1), so `kubectl describe` and `kubectl events` show why a request failed.
 * CSRs are cluster-scoped; the apiserver accepts Events about cluster-scoped objects only in the "default"
 * namespace (kubernetes pkg/apis/core/validation/events.go). An Event about a namespaced object (a
 * PodCertificateRequest) must be in that object's namespace. Best effort: a failed Event is logged, never
 * fails a reconcile.
 */

import { randomBytes } from "node:crypto";
import { EventsV1Api, V1MicroTime, type KubeConfig, type V1CertificateSigningRequest } from "@kubernetes/client-node";
import { kubeMessage } from "./kube-error.ts";
import type { Logger } from "./logger.ts";

/** The controller name Events carry (`reportingController`, a qualified name). */
export const REPORTING_CONTROLLER = "edgeca.dev/shim";
const EVENT_NAMESPACE = "default";

export interface EventRecorder {
  /** Records a Warning Event about `csr`; never throws. */
  warning(csr: V1CertificateSigningRequest, reason: string, note: string): Promise<void>;
}

/** The object an Event is about (`regarding`); without a namespace it is cluster-scoped. */
export interface Regarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
}

/** Records a Warning Event about `regarding`; never throws. */
export type WarningWriter = (regarding: Regarding, reason: string, note: string) => Promise<void>;

/** Creates a WarningWriter writing through `kubeConfig` as `instance` (the pod name). */
export function createWarningWriter(kubeConfig: KubeConfig, instance: string, logger: Logger, now: () => number): WarningWriter {
  const api = kubeConfig.makeApiClient(EventsV1Api);
  return async (regarding, reason, note) => {
    const namespace = regarding.namespace ?? EVENT_NAMESPACE;
    try {
      await api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${regarding.name}.${randomBytes(8).toString("hex")}`, namespace },
          eventTime: new V1MicroTime(now()),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: instance.slice(0, 128),
          action: "Sign",
          type: "Warning",
          reason: reason.slice(0, 128),
          // The API caps a note at 1 KiB.
          note: note.slice(0, 1024),
          regarding: {
            apiVersion: regarding.apiVersion,
            kind: regarding.kind,
            name: regarding.name,
            ...(regarding.namespace === undefined ? {} : { namespace: regarding.namespace }),
            ...(regarding.uid === undefined ? {} : { uid: regarding.uid }),
          },
        },
      });
    } catch (error) {
      logger.warn("could not record an Event", { regarding: `${regarding.kind} ${regarding.namespace === undefined ? "" : `${regarding.namespace}/`}${regarding.name}`, reason, error: kubeMessage(error) });
    }
  };
}

/** Creates an EventRecorder writing through `kubeConfig` as `instance` (the pod name). */
export function createEventRecorder(kubeConfig: KubeConfig, instance: string, logger: Logger, now: () => number): EventRecorder {
  const write = createWarningWriter(kubeConfig, instance, logger, now);
  return {
    warning: (csr, reason, note) => write({ apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", name: csr.metadata?.name ?? "unknown", uid: csr.metadata?.uid }, reason, note),
  };
}
