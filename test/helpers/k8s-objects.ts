/**
 * The shapes of the Kubernetes objects that the deploy tests read: only the fields they
 * check, not the whole API.
 */
/** A container variable: a value, or a reference to a Secret key. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
/** An HTTP probe. */
export interface Probe {
  httpGet: { path: string; port: string | number };
}
/** A container of a pod template. */
export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
/** The pod template of a Deployment or a Job. */
export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
    terminationGracePeriodSeconds?: number;
  };
}
/** What every object has. */
export interface K8sObject {
  kind: string;
  metadata: { name: string };
}
/** apps/v1 Deployment. */
export interface Deployment extends K8sObject {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
}
/** batch/v1 CronJob. */
export interface CronJob extends K8sObject {
  spec: { concurrencyPolicy: string; jobTemplate: { spec: { template: PodTemplate } } };
}
/** v1 Service. */
export interface Service extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: { name?: string; port: number; targetPort: string | number }[];
  };
}
/** policy/v1 PodDisruptionBudget. */
export interface DisruptionBudget extends K8sObject {
  spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
}
/** networking.k8s.io/v1 Ingress. */
export interface Ingress extends K8sObject {
  spec: {
    rules: {
      http: { paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[] };
    }[];
  };
}
/** v1 ConfigMap. */
export interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}
/** v1 Secret, written with stringData. */
export interface Secret extends K8sObject {
  stringData: Record<string, string>;
}
