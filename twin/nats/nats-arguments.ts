import { podIp, podPath } from '../data/container-paths.ts';

/** Flags of nats-server whose value is a path in the container (https://docs.nats.io/running-a-nats-service/introduction/flags). */
const PATH_FLAGS = new Set(['-sd', '--store_dir', '-c', '--config', '-P', '--pid', '-l', '--log']);
const ADDRESS_FLAGS = new Set(['-a', '--addr', '--net']);

/** The container's arguments with container paths mapped and the pod's address added (see above). */
export function natsArguments(args: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  let hasAddress = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (ADDRESS_FLAGS.has(flag)) hasAddress = true;
    if (PATH_FLAGS.has(flag)) {
      if (inline !== undefined) out.push(`${flag}=${podPath(inline, env)}`);
      else if (i + 1 < args.length) out.push(flag, podPath(args[++i]!, env));
      else out.push(arg);
      continue;
    }
    out.push(arg);
  }
  return hasAddress ? out : ['--addr', podIp(env), ...out];
}
