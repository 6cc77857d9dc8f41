// The Kubernetes Job (and overlay ConfigMap) that runs one istioctl command for an upgrade.
import type { V1ClusterRoleBinding, V1ConfigMap, V1Job } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { API_GROUP_VERSION, GRANTED_FOR_ANNOTATION, KIND, PURPOSE_LABEL, UPGRADE_LABEL } from '../../api/constants.ts';
import type { RunInstallerJob } from '../../core/actions.ts';
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
    'app.kubernetes.io/name': 'istioctl',
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

export function installerJobSpec(action: RunInstallerJob, owner: JobOwner, settings: InstallerSettings): V1Job {
  const withOverlay = action.overlay !== undefined;
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
              name: 'istioctl',
              image: action.image,
              args: [...action.args],
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
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: settings.serviceAccount },
    subjects: [{ kind: 'ServiceAccount', name: settings.serviceAccount, namespace: settings.namespace }],
  };
}
