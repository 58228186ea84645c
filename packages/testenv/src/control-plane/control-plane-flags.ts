/**
 * The command lines etcd and kube-apiserver run with in `startControlPlane`: loopback only,
 * throwaway data, and the API features edgeca needs switched on.
 */
import { join } from "node:path";

/** Where the parts listen: etcd's client and peer URLs and the apiserver's https URL and port. */
export interface ControlPlaneEndpoints {
  readonly etcdUrl: string;
  readonly peerUrl: string;
  readonly apiPort: number;
  readonly server: string;
}

/** The PEM files the apiserver reads, in `<dataDir>/pki`. */
export interface ControlPlanePkiFiles {
  readonly caFile: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly saKey: string;
  readonly saPub: string;
}

/** A single-member etcd on 127.0.0.1 with its data in `<dataDir>/etcd`. */
export function etcdFlags(dataDir: string, at: ControlPlaneEndpoints): string[] {
  return [
    "--name=edgeca",
    `--data-dir=${join(dataDir, "etcd")}`,
    `--listen-client-urls=${at.etcdUrl}`,
    `--advertise-client-urls=${at.etcdUrl}`,
    `--listen-peer-urls=${at.peerUrl}`,
    `--initial-advertise-peer-urls=${at.peerUrl}`,
    `--initial-cluster=edgeca=${at.peerUrl}`,
    // Throwaway data: skip fsync like envtest does; it makes writes an order of magnitude faster.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

/** kube-apiserver on 127.0.0.1 in front of that etcd; `extra` is appended last (so it wins). */
export function apiserverFlags(
  dataDir: string,
  at: ControlPlaneEndpoints,
  pki: ControlPlanePkiFiles,
  issuer: string,
  extra: readonly string[],
): string[] {
  return [
    `--etcd-servers=${at.etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${at.apiPort}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caFile}`,
    `--cert-dir=${join(dataDir, "apiserver-certs")}`,
    "--authorization-mode=Node,RBAC",
    `--service-account-issuer=${issuer}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints validation refuses
    // (loopback); with nothing in the cluster to use them, do not keep retrying to write them.
    "--endpoint-reconciler-type=none",
    // On by default since 1.19/1.20; listed so the intent survives a default change.
    "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,CertificateApproval,CertificateSigning,CertificateSubjectRestriction,ClusterTrustBundleAttest,NodeRestriction",
    // ClusterTrustBundle (beta since 1.33) and PodCertificateRequest (beta in 1.35, KEP-4317) are
    // off by default: both the gate and the beta API version must be switched on.
    "--runtime-config=certificates.k8s.io/v1beta1=true",
    "--feature-gates=ClusterTrustBundle=true,PodCertificateRequest=true",
    "--profiling=false",
    ...extra,
  ];
}
