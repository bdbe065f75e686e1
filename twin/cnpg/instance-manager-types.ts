import type { BootstrapRequest, StartRequest } from './instance-protocol.ts';

/** What the controller asks an instance for; the instance manager converges to it one step at a time. */
export interface Desired extends StartRequest {
  bootstrap?: Omit<BootstrapRequest, 'superuserPassword' | 'parameters'>;
  synchronousStandbyNames?: string;
}
