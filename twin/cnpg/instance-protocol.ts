/**
 * What the twin's CNPG controller and an instance manager say to each other over HTTP on the pod's
 * port 8000 (CloudNativePG's instance manager serves its status and probes on the same port).
 */
export const INSTANCE_MANAGER_PORT = 8000;
export const POSTGRES_PORT = 5432;

export interface InstanceStatus {
  pod: string;
  /** PGDATA holds a cluster. */
  initialised: boolean;
  /** postgres is running and answers queries. */
  running: boolean;
  /** What the manager is doing (idle until told; bootstrapping, joining, rewinding, …). */
  phase: string;
  role?: 'primary' | 'replica';
  timeline?: number;
  /** Primary: pg_current_wal_lsn(); replica: the furthest of received and replayed (as a number). */
  lsn?: string;
  lsnBytes?: number;
  /** Replica: its WAL receiver is streaming. */
  streaming?: boolean;
  /** Primary: application names of the standbys streaming from it, with sync_state. */
  standbys?: Array<{ name: string; state: string; syncState: string }>;
  error?: string;
}

export interface Credentials {
  superuserPassword: string;
}

export interface BootstrapRequest extends Credentials {
  database: string;
  owner: string;
  ownerPassword: string;
  parameters: Record<string, string>;
}

export interface StartRequest extends Credentials {
  role: 'primary' | 'replica';
  /** The primary's address (replica only). */
  primaryHost?: string;
  parameters: Record<string, string>;
}

export interface ConfigRequest {
  synchronousStandbyNames: string;
}

/** "16/B374D848" → bytes. */
export function lsnToBytes(lsn: string | null | undefined): number {
  if (!lsn) return 0;
  const [hi, lo] = lsn.split('/');
  return Number.parseInt(hi ?? '0', 16) * 2 ** 32 + Number.parseInt(lo ?? '0', 16);
}
