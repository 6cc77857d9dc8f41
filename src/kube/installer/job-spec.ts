// The Kubernetes Job (and overlay ConfigMap) that runs one installer command (istioctl or helm) for an upgrade.
import type { V1ClusterRoleBinding, V1ConfigMap, V1EnvVar, V1Job } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { API_GROUP_VERSION, GRANTED_FOR_ANNOTATION, KIND, PURPOSE_LABEL, UPGRADE_LABEL } from '../../api/constants.ts';
import type { RunInstallerJob } from '../../core/actions.ts';
import { HELM_PASSWORD_ENV, HELM_USERNAME_ENV } from '../../core/helm-jobs.ts';
import { OVERLAY_PATH } from '../../core/installer-jobs.ts';

export interface JobOwner {
  readonly name: string;
  readonly uid: string;
}

export interface InstallerSettings {
  readonly namespace: string;
  /** Also the name of its ClusterRole and of the ClusterRoleBinding written while a Job runs. */
  readonly serviceAccount: string;
  /** Seconds before a hung istioctl is killed. */
  readonly activeDeadlineSeconds: number;
}

const OVERLAY_DIR = OVERLAY_PATH.slice(0, OVERLAY_PATH.lastIndexOf('/'));
const OVERLAY_KEY = OVERLAY_PATH.slice(OVERLAY_PATH.lastIndexOf('/') + 1);

function ownerReference(owner: JobOwner) {
  // The IstioUpgrade is cluster-scoped, so it may own namespaced objects: deleting it cleans its Jobs up.
  return [{ apiVersion: API_GROUP_VERSION, kind: KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: false }];
}

function labels(action: RunInstallerJob, owner: JobOwner): Record<string, string> {
  return {
    'app.kubernetes.io/name': action.tool,
    'app.kubernetes.io/managed-by': 'istio-upgrade-operator',
    [UPGRADE_LABEL]: owner.uid,
    [PURPOSE_LABEL]: action.purpose,
  };
}

export function overlayConfigMap(action: RunInstallerJob, owner: JobOwner, settings: InstallerSettings): V1ConfigMap | undefined {
  if (action.overlay === undefined) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: action.jobName, namespace: settings.namespace, labels: labels(action, owner), ownerReferences: ownerReference(owner) },
    data: { [OVERLAY_KEY]: yaml.dump(action.overlay) },
  };
}

/** The ClusterRole a Job of this tool is granted: helm needs reads and writes of its release Secrets (docs/security.md). */
export function installerRoleName(action: Pick<RunInstallerJob, 'tool'>, settings: Pick<InstallerSettings, 'serviceAccount'>): string {
  return action.tool === 'helm' ? `${settings.serviceAccount}-helm` : settings.serviceAccount;
}

/**
 * helm writes its cache and config under HOME; the root filesystem is read-only, so they go to the /tmp emptyDir.
 * Repository credentials come from the Secret, expanded into the args by Kubernetes ($(VAR)).
 */
function toolEnv(action: RunInstallerJob): V1EnvVar[] {
  if (action.tool !== 'helm') return [];
  const secret = action.credentialsSecret;
  return [
    { name: 'HOME', value: '/tmp' },
    { name: 'HELM_CACHE_HOME', value: '/tmp/helm/cache' },
    { name: 'HELM_CONFIG_HOME', value: '/tmp/helm/config' },
    { name: 'HELM_DATA_HOME', value: '/tmp/helm/data' },
    ...(secret === undefined
      ? []
      : [
          { name: HELM_USERNAME_ENV, valueFrom: { secretKeyRef: { name: secret, key: 'username' } } },
          { name: HELM_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret, key: 'password' } } },
        ]),
  ];
}

export function installerJobSpec(action: RunInstallerJob, owner: JobOwner, settings: InstallerSettings): V1Job {
  const withOverlay = action.overlay !== undefined;
  const env = toolEnv(action);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: action.jobName, namespace: settings.namespace, labels: labels(action, owner), ownerReferences: ownerReference(owner) },
    spec: {
      // Never retried by Kubernetes: a failed istioctl is reported, and the operator decides what follows.
      backoffLimit: 0,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      template: {
        metadata: { labels: labels(action, owner) },
        spec: {
          serviceAccountName: settings.serviceAccount,
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: action.tool,
              image: action.image,
              args: [...action.args],
              ...(env.length > 0 ? { env } : {}),
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(withOverlay ? [{ name: 'overlay', mountPath: OVERLAY_DIR, readOnly: true }] : [])],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }, ...(withOverlay ? [{ name: 'overlay', configMap: { name: action.jobName } }] : [])],
        },
      },
    },
  };
}

/**
 * Binds the installer ClusterRole to the installer account for one Job: written (server-side apply) just before
 * the Job is created and deleted once it has finished, so the account holds the role only while a Job runs.
 * Owned by the IstioUpgrade, so deleting the upgrade removes a binding left behind.
 */
export function installerBinding(action: RunInstallerJob, owner: JobOwner, settings: InstallerSettings): V1ClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: settings.serviceAccount,
      labels: { 'app.kubernetes.io/managed-by': 'istio-upgrade-operator', [UPGRADE_LABEL]: owner.uid },
      annotations: { [GRANTED_FOR_ANNOTATION]: action.jobName },
      ownerReferences: ownerReference(owner),
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: installerRoleName(action, settings) },
    subjects: [{ kind: 'ServiceAccount', name: settings.serviceAccount, namespace: settings.namespace }],
  };
}
