// The reasons an IstioUpgrade reports, one table for the code, the tests and docs/troubleshooting.md.
// failure: ends the upgrade (RolledBack or Failed). blocked: Stalled until a person acts, the phase stays.
// waiting: not Stalled, the upgrade waits for something expected. progress: work under way.

export type ReasonKind = 'failure' | 'blocked' | 'waiting' | 'progress';

export const REASONS = {
  // Prechecking
  InvalidVersion: 'failure',
  TagNotFound: 'failure',
  FromRevisionMismatch: 'failure',
  AlreadyOnRevision: 'failure',
  FromRevisionNotReady: 'failure',
  FromVersionUnknown: 'failure',
  DowngradeNotAllowed: 'failure',
  VersionSkewTooLarge: 'failure',
  KubernetesVersionUnsupported: 'failure',
  RevisionConflict: 'failure',
  GatewayNotFound: 'failure',
  GatewayNotInjected: 'failure',
  GatewayPinned: 'failure',
  GatewayNotOnTag: 'failure',
  InvalidWave: 'failure',
  InvalidTag: 'failure',
  InstallerMismatch: 'failure',
  TagNotOwnedByRelease: 'failure',
  InstallerImageNotAllowed: 'failure',
  InstallWouldChangeInjection: 'failure',
  PrecheckFailed: 'failure',
  InvalidSoakQuery: 'failure',
  // Installing, SwitchingTag, UpgradingGateways, RollingOut, Soaking
  InstallFailed: 'failure',
  RevisionLost: 'failure',
  TagSwitchTimeout: 'failure',
  TagReverted: 'failure',
  GatewayUpgradeTimeout: 'failure',
  WorkloadTimeout: 'failure',
  SoakFailed: 'failure',
  NoTraffic: 'failure',
  MetricsUnavailable: 'failure',
  SoakStateLost: 'failure',
  // Uninstalling, RollingBack
  UninstallFailed: 'failure',
  FromRevisionUnknown: 'failure',
  RollbackFailed: 'failure',
  // Blocked: Stalled, the phase stays until a person acts.
  RevisionInUse: 'blocked',
  Forbidden: 'blocked',
  Invalid: 'blocked',
  InvalidSpec: 'blocked',
  WatchFailed: 'blocked',
  // Waiting, not Stalled.
  WaitingForOtherUpgrade: 'waiting',
  AwaitingApproval: 'waiting',
  Paused: 'waiting',
  GracePeriod: 'waiting',
  WaitingForExternalInstall: 'waiting',
  WaitingForExternalRemoval: 'waiting',
  WaitingForRevision: 'waiting',
  WaitingForOldRevision: 'waiting',
  WaitingForDisruptionBudget: 'waiting',
  RetryingAfterError: 'waiting',
  // Progress: what a step is doing.
  Pending: 'progress',
  Prechecking: 'progress',
  RunningPrecheck: 'progress',
  PrecheckPassed: 'progress',
  PrecheckWarning: 'progress',
  PreparingTag: 'progress',
  TagPrepared: 'progress',
  Installing: 'progress',
  Installed: 'progress',
  Adopted: 'progress',
  InstalledExternally: 'progress',
  SwitchingTag: 'progress',
  Switching: 'progress',
  TagSwitched: 'progress',
  UpgradingGateways: 'progress',
  RestartingGateways: 'progress',
  UpgradingGatewayReleases: 'progress',
  ProtectingTag: 'progress',
  NoGateways: 'progress',
  GatewaysUpgraded: 'progress',
  RollingOut: 'progress',
  WaveStarted: 'progress',
  EvictingPods: 'progress',
  AdoptingNamespace: 'progress',
  DataPlaneUpgraded: 'progress',
  Soaking: 'progress',
  SoakPassed: 'progress',
  SoakCheckFailed: 'progress',
  Uninstalling: 'progress',
  UninstallDisabled: 'progress',
  Removed: 'progress',
  RemovingNewRevision: 'progress',
  RollingBack: 'progress',
  RolledBack: 'progress',
  Failed: 'progress',
  Succeeded: 'progress',
  Progressing: 'progress',
} as const satisfies Record<string, ReasonKind>;

export type Reason = keyof typeof REASONS;

export function reasonKind(reason: Reason): ReasonKind {
  return REASONS[reason];
}

export function isReason(text: string): text is Reason {
  return Object.hasOwn(REASONS, text);
}

/** Every reason of the given kinds, in table order (for docs and tests). */
export function reasonsOfKind(...kinds: readonly ReasonKind[]): Reason[] {
  return Object.keys(REASONS).filter(isReason).filter((r) => kinds.includes(REASONS[r]));
}
