/** What the API handlers of a broker share. */
import type { MetadataImage } from '../controller/metadata-image.ts';
import type { GroupCoordinator } from '../group/group-coordinator.ts';
import type { RequestHeader } from '../protocol/frame.ts';
import type { ReplicaManager } from '../replication/replica-manager.ts';
import type { BrokerConfig } from './broker-config.ts';

export interface BrokerContext {
  config: BrokerConfig;
  image: MetadataImage;
  replicas: ReplicaManager;
  groups: GroupCoordinator;
  /** Sends a request to the active controller, retrying while it moves; rejects after timeoutMs. */
  controllerCall(request: object, timeoutMs: number): Promise<any>;
  log(message: string): void;
}

export interface RequestInfo {
  header: RequestHeader;
  /** The listener the request came in on (its advertised endpoints go back in Metadata). */
  listener: string;
  clientHost: string;
}

export type Handler = (ctx: BrokerContext, request: any, info: RequestInfo) => Promise<object | undefined>;

/** The endpoint of a broker on a listener, or undefined when it has none there. */
export function endpointOf(
  ctx: BrokerContext,
  brokerId: number,
  listener: string,
): { host: string; port: number } | undefined {
  return ctx.image.brokers.get(brokerId)?.endpoints.find((e) => e.name === listener);
}
