/**
 * Warning Events about CSRs (events.k8s.io/v1), so `kubectl describe csr` and `kubectl events` show why a
 * request failed. CSRs are cluster-scoped; the apiserver accepts Events about cluster-scoped objects only
 * in the "default" namespace (kubernetes pkg/apis/core/validation/events.go). Best effort: a failed Event
 * is logged, never fails a reconcile.
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

/** Creates an EventRecorder writing through `kubeConfig` as `instance` (the pod name). */
export function createEventRecorder(kubeConfig: KubeConfig, instance: string, logger: Logger, now: () => number): EventRecorder {
  const api = kubeConfig.makeApiClient(EventsV1Api);
  return {
    async warning(csr, reason, note) {
      const name = csr.metadata?.name ?? "unknown";
      try {
        await api.createNamespacedEvent({
          namespace: EVENT_NAMESPACE,
          body: {
            metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace: EVENT_NAMESPACE },
            eventTime: new V1MicroTime(now()),
            reportingController: REPORTING_CONTROLLER,
            reportingInstance: instance.slice(0, 128),
            action: "Sign",
            type: "Warning",
            reason: reason.slice(0, 128),
            // The API caps a note at 1 KiB.
            note: note.slice(0, 1024),
            regarding: {
              apiVersion: "certificates.k8s.io/v1",
              kind: "CertificateSigningRequest",
              name,
              ...(csr.metadata?.uid === undefined ? {} : { uid: csr.metadata.uid }),
            },
          },
        });
      } catch (error) {
        logger.warn("could not record an Event", { csr: name, reason, error: kubeMessage(error) });
      }
    },
  };
}
