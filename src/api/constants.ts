// Names shared by the API, the planner and the cluster I/O. The CRD identity is the public contract.

export const API_GROUP = 'istioupgrade.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'IstioUpgrade';
export const PLURAL = 'istioupgrades';
export const SINGULAR = 'istioupgrade';
export const SHORT_NAME = 'iu';

/** Pod-template annotation that makes a restart idempotent: `<upgrade uid>/<revision>`. */
export const RESTARTED_FOR_ANNOTATION = `${API_GROUP}/restarted-for`;
/** Pod-template annotation kubectl's `rollout restart` sets; we set it too so the rollout is a normal one. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** Annotation on the IstioUpgrade that approves a wave with `requireApproval: true` (value: wave name). */
export const APPROVE_ANNOTATION = `${API_GROUP}/approve`;
/** Labels put on the installer Jobs so they can be found again after a crash. */
/** On the installer's ClusterRoleBinding: the Job it was granted for (revoked once that Job has finished). */
export const GRANTED_FOR_ANNOTATION = `${API_GROUP}/granted-for`;
export const UPGRADE_LABEL = `${API_GROUP}/upgrade`;
export const PURPOSE_LABEL = `${API_GROUP}/purpose`;

export const ISTIO_REV_LABEL = 'istio.io/rev';
export const ISTIO_TAG_LABEL = 'istio.io/tag';
export const ISTIO_INJECTION_LABEL = 'istio-injection';
export const SIDECAR_INJECT_LABEL = 'sidecar.istio.io/inject';
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const ISTIO_PROXY_CONTAINER = 'istio-proxy';

/** Where Istio's control plane lives unless configured otherwise (and what upstream names tags relative to). */
export const DEFAULT_ISTIO_NAMESPACE = 'istio-system';
export const DEFAULT_TAG = 'default';
