import { type KubeObject, refOf } from '../../kube/object.ts';
import { keyOf, ReconcileController } from '../controllers/controller.ts';
import type { EventType } from '../store/event-recorder.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { allowedByTopologies } from './allowed-topologies.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  podClaimNames,
} from './pod-claims.ts';
import {
  chooseZone,
  placementOf,
  provisionedVolume,
  REGION_LABEL,
  ZONE_LABEL,
} from './provisioned-volume.ts';
import { type Provisioner, resolveProvisioner } from './provisioners.ts';
import { claimClass, claimHasClass, defaultStorageClass, isDelayBinding } from './storage-class.ts';
import { findMatchingVolume, isVolumeBoundToClaim, volumeMismatch } from './volume-matching.ts';

const PV_CONTROLLER = 'persistentvolume-controller';
const PVC = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
const PV = { apiVersion: 'v1', kind: 'PersistentVolume' };
const STORAGE_CLASS = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' };

export interface PersistentVolumeControllerOptions {
  /** The provisioners (CSI drivers) that run in the cluster; any other provisioner never answers. */
  provisioners: readonly Provisioner[];
  /** Called when a volume is deleted by its reclaim policy (its disk is gone). */
  onVolumeDeleted?: (volume: KubeObject) => void;
}

/**
 * kube-controller-manager's PersistentVolume controller (persistentvolume-binder) together with the
 * external provisioners the cluster runs. It binds claims to volumes (pre-bound, or the smallest
 * matching Available one), gives claims without a class the default class, and asks for a new volume
 * when none matches: for a claim of a missing StorageClass it records `ProvisioningFailed`
 * (`storageclass.storage.k8s.io "x" not found`); otherwise `ExternalProvisioning` ("Waiting for a
 * volume to be created either by the external provisioner 'x' …"), and when that provisioner runs in
 * the cluster it creates the volume (`Provisioning`, `ProvisioningSucceeded`) — for a
 * WaitForFirstConsumer class only once the scheduler has written `volume.kubernetes.io/selected-node`,
 * in that node's zone. Released volumes are kept (Retain) or deleted (Delete) once no pod uses the
 * claim any more. See https://kubernetes.io/docs/concepts/storage/persistent-volumes/ and
 * https://kubernetes.io/docs/concepts/storage/dynamic-provisioning/
 *
 * Twin simplification: an event is recorded once per state of a claim (the controller repeats it at each 15 s resync).
 * Twin simplification: a claim whose selected node is gone keeps its volume.kubernetes.io/selected-node (csi-provisioner removes it to have the pod rescheduled).
 * Twin simplification: claims and volumes are removed at once (no kubernetes.io/pvc-protection or pv-protection finalizers); a released volume is reclaimed only after the last pod using its claim is gone.
 */
export class PersistentVolumeController extends ReconcileController {
  readonly name = PV_CONTROLLER;
  /** The last state event recorded per claim uid, so an unchanged state is not reported again. */
  private readonly lastEvent = new Map<string, string>();

  constructor(private readonly options: PersistentVolumeControllerOptions) {
    super();
  }

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      {
        filter: PVC,
        keys: (e) => {
          if (e.type === 'DELETED') {
            this.lastEvent.delete(e.object.metadata.uid ?? '');
            const volume = e.object.spec?.volumeName;
            return volume ? [`volume:/${volume}`] : this.volumesClaimedBy(e.object);
          }
          return [`claim:${keyOf(e.object)}`];
        },
      },
      {
        filter: PV,
        keys: (e) => {
          const ref = e.object.spec?.claimRef;
          const claim = ref ? [`claim:${ref.namespace ?? ''}/${ref.name}`] : [];
          return e.type === 'DELETED' ? claim : [`volume:/${e.object.metadata.name}`, ...claim];
        },
      },
      // A class created or changed may let Pending claims provision.
      { filter: STORAGE_CLASS, keys: () => this.unboundClaimKeys() },
      {
        filter: { kind: 'Pod' },
        keys: (e) => {
          if (e.type === 'MODIFIED' && e.oldObject?.spec?.nodeName === e.object.spec?.nodeName) return [];
          const ns = e.object.metadata.namespace ?? '';
          const claims = podClaimNames(e.object).map((c) => `claim:${ns}/${c}`);
          // The last pod of a released claim is gone: its volume may be reclaimed now.
          return e.type === 'DELETED' ? [...claims, ...this.releasedVolumeKeys()] : claims;
        },
      },
    ];
  }

  protected override onStart(): void {
    this.enqueue(
      ...this.ctx.store.list(PVC).map((c) => `claim:${keyOf(c)}`),
      ...this.ctx.store.list(PV).map((v) => `volume:/${v.metadata.name}`),
    );
  }

  protected reconcile(key: string): void {
    const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const slash = rest.indexOf('/');
    const namespace = rest.slice(0, slash);
    const name = rest.slice(slash + 1);
    if (kind === 'claim') {
      const claim = this.ctx.store.get({ ...PVC, namespace, name });
      if (!claim) return;
      if (claim.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined) this.syncUnboundClaim(claim);
      else this.syncBoundClaim(claim);
    } else {
      const volume = this.ctx.store.get({ ...PV, name });
      if (volume) this.syncVolume(volume);
    }
  }

  private classOf = (name: string) => this.ctx.store.get({ ...STORAGE_CLASS, name });

  private unboundClaimKeys(): string[] {
    return this.ctx.store
      .list(PVC)
      .filter((c) => c.status?.phase !== 'Bound')
      .map((c) => `claim:${keyOf(c)}`);
  }

  private releasedVolumeKeys(): string[] {
    return this.ctx.store
      .list(PV)
      .filter((v) => v.status?.phase === 'Released')
      .map((v) => `volume:/${v.metadata.name}`);
  }

  private volumesClaimedBy(claim: KubeObject): string[] {
    return this.ctx.store
      .list(PV)
      .filter((v) => isVolumeBoundToClaim(v, claim))
      .map((v) => `volume:/${v.metadata.name}`);
  }

  /** Records an event about the claim unless it is the state already reported. */
  private report(claim: KubeObject, type: EventType, reason: string, message: string): void {
    const uid = claim.metadata.uid ?? '';
    const sig = `${reason}|${message}`;
    if (this.lastEvent.get(uid) === sig) return;
    this.lastEvent.set(uid, sig);
    this.ctx.events.record(claim, type, reason, message, PV_CONTROLLER);
  }

  private setClaimPhase(claim: KubeObject, phase: 'Pending' | 'Bound' | 'Lost', volume?: KubeObject): void {
    this.ctx.store.patch(refOf(claim), (c) => {
      if (phase === 'Bound' && volume) {
        c.status = {
          ...(c.status ?? {}),
          phase,
          accessModes: [...(volume.spec?.accessModes ?? [])],
          capacity: { ...(volume.spec?.capacity ?? {}) },
        };
      } else if (phase === 'Lost') {
        c.status = { ...(c.status ?? {}), phase };
      } else {
        c.status = { phase };
      }
    });
  }

  private setVolumePhase(
    volume: KubeObject,
    phase: 'Available' | 'Bound' | 'Released' | 'Failed',
    message?: string,
  ) {
    this.ctx.store.patch(refOf(volume), (v) => {
      if (v.status?.phase === phase && v.status?.message === message) return;
      v.status = {
        phase,
        ...(message ? { message } : {}),
        lastPhaseTransitionTime:
          v.status?.phase === phase
            ? v.status?.lastPhaseTransitionTime
            : new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
    });
  }

  private syncUnboundClaim(claim: KubeObject): void {
    const store = this.ctx.store;
    const ns = claim.metadata.namespace ?? '';
    const wanted: string | undefined = claim.spec?.volumeName || undefined;
    if (wanted) {
      // The user asked for a specific volume.
      const volume = store.get({ ...PV, name: wanted });
      if (!volume) {
        this.setClaimPhase(claim, 'Pending');
        return;
      }
      if (!volume.spec?.claimRef) {
        const mismatch = volumeMismatch(volume, claim);
        if (mismatch) {
          this.report(
            claim,
            'Warning',
            'VolumeMismatch',
            `Cannot bind to requested volume "${wanted}": ${mismatch}`,
          );
          this.setClaimPhase(claim, 'Pending');
          return;
        }
        this.bind(volume, claim);
        return;
      }
      if (isVolumeBoundToClaim(volume, claim)) {
        this.bind(volume, claim);
        return;
      }
      this.report(
        claim,
        'Warning',
        'FailedBinding',
        `volume "${wanted}" already bound to a different claim.`,
      );
      this.setClaimPhase(claim, 'Pending');
      return;
    }

    const delayBinding = isDelayBinding(claim, this.classOf);
    const volume = findMatchingVolume(claim, store.list(PV), { delayBinding });
    if (volume) {
      this.bind(volume, claim);
      return;
    }

    // Retroactive default StorageClass assignment (Kubernetes 1.28): a claim created before any default class existed gets it now.
    if (!claimHasClass(claim)) {
      const def = defaultStorageClass(store.list(STORAGE_CLASS));
      if (def) {
        store.patch(refOf(claim), (c) => {
          c.spec = { ...(c.spec ?? {}), storageClassName: def.metadata.name };
        });
        return;
      }
    }
    const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    if (delayBinding && !selectedNode) {
      const waiting = store
        .list({ kind: 'Pod' }, { namespace: ns })
        .filter((p) => !p.spec?.nodeName && podClaimNames(p).includes(claim.metadata.name))
        .map((p) => p.metadata.name);
      if (waiting.length > 0)
        this.report(
          claim,
          'Normal',
          'WaitForPodScheduled',
          `waiting for pod${waiting.length > 1 ? 's' : ''} ${waiting.join(',')} to be scheduled`,
        );
      else
        this.report(
          claim,
          'Normal',
          'WaitForFirstConsumer',
          'waiting for first consumer to be created before binding',
        );
    } else if (claimClass(claim) !== '') {
      this.provisionClaim(claim);
    } else {
      this.report(
        claim,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
    }
    const latest = store.get(refOf(claim));
    if (latest && latest.status?.phase !== 'Pending' && !latest.spec?.volumeName)
      this.setClaimPhase(latest, 'Pending');
  }

  /** provisionClaim / provisionClaimOperationExternal, then the external provisioner when the cluster runs it. */
  private provisionClaim(claim: KubeObject): void {
    const className = claimClass(claim);
    const storageClass = this.classOf(className);
    if (!storageClass) {
      this.report(
        claim,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${className}" not found`,
      );
      return;
    }
    const resolved = resolveProvisioner(String(storageClass['provisioner'] ?? ''), this.options.provisioners);
    if ('failed' in resolved) {
      this.report(claim, 'Warning', 'ProvisioningFailed', resolved.failed);
      return;
    }
    const annotated =
      this.ctx.store.patch(refOf(claim), (c) => {
        c.metadata.annotations = {
          ...(c.metadata.annotations ?? {}),
          [ANN_BETA_STORAGE_PROVISIONER]: resolved.external,
          [ANN_STORAGE_PROVISIONER]: resolved.external,
        };
      }) ?? claim;
    this.report(
      annotated,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${resolved.external}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    if (resolved.running) this.provision(annotated, storageClass, resolved.running);
  }

  /** What the external provisioner (a CSI driver's csi-provisioner sidecar) does with a claim it is asked for. */
  private provision(claim: KubeObject, storageClass: KubeObject, provisioner: Provisioner): void {
    const store = this.ctx.store;
    const component = `${provisioner.name}_twin-provisioner`;
    const failed = (message: string) => this.report(claim, 'Warning', 'ProvisioningFailed', message);
    const volumeName = `pvc-${claim.metadata.uid}`;
    if (store.get({ ...PV, name: volumeName })) return;
    if (claim.spec?.selector) {
      failed('claim Selector is not supported');
      return;
    }
    const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    let placement: ReturnType<typeof placementOf>;
    if (selectedNode) {
      const node = store.get({ kind: 'Node', name: selectedNode });
      if (!node) {
        failed(`failed to get target node: node "${selectedNode}" not found`);
        return;
      }
      placement = placementOf(node, provisioner);
    } else if (provisioner.volumeTopology === 'node') {
      failed(
        `failed to provision volume with StorageClass "${storageClass.metadata.name}": configuration error, no node was specified`,
      );
      return;
    } else if (provisioner.volumeTopology === 'zone') {
      const nodes = store.list({ kind: 'Node' }).filter((n) => allowedByTopologies(storageClass, n));
      const zone = chooseZone(
        claim.metadata.name,
        nodes.map((n) => n.metadata.labels?.[ZONE_LABEL]).filter((z): z is string => Boolean(z)),
      );
      if (!zone) {
        failed(
          `failed to provision volume with StorageClass "${storageClass.metadata.name}": error generating accessibility requirements: no available topology found`,
        );
        return;
      }
      const region = nodes.find((n) => n.metadata.labels?.[ZONE_LABEL] === zone)?.metadata.labels?.[
        REGION_LABEL
      ];
      placement = { zone, ...(region ? { region } : {}) };
    } else {
      placement = {};
    }
    this.ctx.events.record(
      claim,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`,
      component,
    );
    const volume = store.create(provisionedVolume(claim, storageClass, provisioner, placement));
    this.setVolumePhase(volume, 'Bound');
    this.ctx.events.record(
      claim,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${volume.metadata.name}`,
      component,
    );
    const latest = store.get(refOf(claim));
    if (latest) this.bind(store.get(refOf(volume)) ?? volume, latest);
  }

  /** bindVolumeToClaim, then bindClaimToVolume, each with its phase (pv_controller's bind). */
  private bind(volume: KubeObject, claim: KubeObject): void {
    const store = this.ctx.store;
    const byController = !isVolumeBoundToClaim(volume, claim);
    const boundVolume =
      store.patch(refOf(volume), (v) => {
        const ref = v.spec?.claimRef;
        if (
          !ref ||
          ref.name !== claim.metadata.name ||
          ref.namespace !== claim.metadata.namespace ||
          ref.uid !== claim.metadata.uid
        ) {
          v.spec = {
            ...(v.spec ?? {}),
            claimRef: {
              kind: 'PersistentVolumeClaim',
              namespace: claim.metadata.namespace,
              name: claim.metadata.name,
              uid: claim.metadata.uid,
              apiVersion: 'v1',
              resourceVersion: claim.metadata.resourceVersion,
            },
          };
        }
        if (byController && v.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined)
          v.metadata.annotations = { ...(v.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      }) ?? volume;
    this.setVolumePhase(boundVolume, 'Bound');
    const boundClaim =
      store.patch(refOf(claim), (c) => {
        const annotations = { ...(c.metadata.annotations ?? {}) };
        if (c.spec?.volumeName !== volume.metadata.name) {
          c.spec = { ...(c.spec ?? {}), volumeName: volume.metadata.name };
          annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
        }
        annotations[ANN_BIND_COMPLETED] = 'yes';
        c.metadata.annotations = annotations;
      }) ?? claim;
    this.lastEvent.delete(claim.metadata.uid ?? '');
    this.setClaimPhase(boundClaim, 'Bound', boundVolume);
  }

  private syncBoundClaim(claim: KubeObject): void {
    const lost = (reason: string, message: string) => {
      if (claim.status?.phase !== 'Lost') this.report(claim, 'Warning', reason, message);
      this.setClaimPhase(claim, 'Lost');
    };
    const name: string | undefined = claim.spec?.volumeName;
    const volume = name ? this.ctx.store.get({ ...PV, name }) : undefined;
    if (!volume) {
      lost('ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    if (!volume.spec?.claimRef || isVolumeBoundToClaim(volume, claim)) {
      this.bind(volume, claim);
      return;
    }
    lost('ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private syncVolume(volume: KubeObject): void {
    const ref = volume.spec?.claimRef;
    if (!ref) {
      if (volume.status?.phase !== 'Available') this.setVolumePhase(volume, 'Available');
      return;
    }
    let claim = this.ctx.store.get({ ...PVC, namespace: ref.namespace, name: ref.name });
    if (claim && ref.uid && claim.metadata.uid !== ref.uid) claim = undefined;
    if (claim) {
      if (claim.spec?.volumeName === volume.metadata.name) {
        if (volume.status?.phase !== 'Bound') this.setVolumePhase(volume, 'Bound');
      } else if (!claim.spec?.volumeName) {
        this.enqueue(`claim:${keyOf(claim)}`);
      } else if (volume.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === 'yes') {
        // The claim is bound to another volume: the controller's own binding of this one is undone.
        this.ctx.store.patch(refOf(volume), (v) => {
          delete v.spec.claimRef;
          delete v.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER];
        });
      }
      return;
    }
    // The claim is gone: the volume is released and reclaimed by its policy.
    const phase = volume.status?.phase;
    if (phase !== 'Released' && phase !== 'Failed') this.setVolumePhase(volume, 'Released');
    if (phase === 'Failed') return;
    const stillUsed = this.ctx.store
      .list({ kind: 'Pod' }, { namespace: ref.namespace })
      .some(
        (p) =>
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed' &&
          podClaimNames(p).includes(ref.name),
      );
    if (stillUsed) return;
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      this.setVolumePhase(volume, 'Failed', 'No recycler plugin found for the volume!');
      this.ctx.events.record(
        volume,
        'Warning',
        'VolumeFailedRecycle',
        'No recycler plugin found for the volume!',
        PV_CONTROLLER,
      );
      return;
    }
    const provisionedBy = volume.metadata.annotations?.['pv.kubernetes.io/provisioned-by'];
    const deleter = provisionedBy ? resolveProvisioner(provisionedBy, this.options.provisioners) : undefined;
    if (!deleter || 'failed' in deleter || !deleter.running) {
      const message = `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`;
      this.setVolumePhase(volume, 'Failed', message);
      this.ctx.events.record(volume, 'Warning', 'VolumeFailedDelete', message, PV_CONTROLLER);
      return;
    }
    const deleted = this.ctx.store.delete(refOf(volume));
    if (deleted) this.options.onVolumeDeleted?.(deleted);
  }
}
