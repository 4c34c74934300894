import type { CreateNetworkRequest, EndpointRequest, NetworkRecord } from '../../../network/index.ts';

/** What the network routes need; the daemon wires it to the network manager and containers. */
export interface NetworksBackend {
  list(): NetworkRecord[];
  find(ref: string): NetworkRecord;
  create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }>;
  remove(ref: string): Promise<void>;
  /** Removes unused user networks; returns their names. */
  prune(filter: (n: NetworkRecord) => boolean): Promise<string[]>;
  connect(ref: string, container: string, req: EndpointRequest): Promise<void>;
  disconnect(ref: string, container: string, force: boolean): Promise<void>;
  /** A container's current name (for inspect's Containers map). */
  containerName(id: string): string;
}
