import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';

/** An existing cluster as a kubeconfig names it: the files read, the context chosen, its server. */
export interface ClusterTarget {
  kc: KubeConfig;
  /** The kubeconfig files read, in order. */
  files: string[];
  context: string;
  server: string;
}

/**
 * Which kubeconfig files kubectl would read: `--kubeconfig`, else every file of $KUBECONFIG (a list
 * separated by the platform's path delimiter; kubectl skips the ones that do not exist), else
 * ~/.kube/config. A file that is named but missing is an error naming it.
 */
export function kubeconfigFiles(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home = os.homedir(),
): string[] {
  if (explicit) {
    const file = path.resolve(explicit);
    if (!existsSync(file))
      throw new TwinError('TWIN_OPTION_INVALID', `--kubeconfig: ${explicit} does not exist (${file})`);
    return [file];
  }
  const listed = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter(Boolean);
  if (listed.length > 0) {
    const found = listed.map((f) => path.resolve(f)).filter((f) => existsSync(f));
    if (found.length === 0)
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `KUBECONFIG=${env['KUBECONFIG']}: no such file; name the cluster's kubeconfig with --kubeconfig <file>`,
      );
    return found;
  }
  const file = path.join(home, '.kube', 'config');
  if (!existsSync(file))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--env cluster: no kubeconfig: ${file} does not exist and KUBECONFIG is not set; name the cluster's kubeconfig with --kubeconfig <file>`,
    );
  return [file];
}

/** Reads the kubeconfig and selects the context (`--context`, else its current-context), as kubectl does. */
export function loadClusterTarget(
  options: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
  home = os.homedir(),
): ClusterTarget {
  const files = kubeconfigFiles(options.kubeconfig, env, home);
  const kc = new KubeConfig();
  for (const [i, file] of files.entries()) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `${file}: not a kubeconfig: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    // kubectl's merge: the first file to set a value wins (a cluster, user or context of a name, current-context).
    if (i === 0) kc.loadFromString(one.exportConfig());
    else {
      for (const c of one.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
      for (const u of one.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
      for (const c of one.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
      if (!kc.getCurrentContext() && one.getCurrentContext()) kc.setCurrentContext(one.getCurrentContext());
    }
  }
  const where = files.join(path.delimiter);
  const contexts = kc.getContexts().map((c) => c.name);
  const context = options.context ?? kc.getCurrentContext();
  if (!context)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${where}: no current-context; choose one with --context <name> (contexts: ${contexts.join(', ') || 'none'})`,
    );
  const ctx = kc.getContextObject(context);
  if (!ctx)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${options.context ? '--context' : 'current-context'}: context "${context}" is not in ${where} (contexts: ${contexts.join(', ') || 'none'})`,
    );
  kc.setCurrentContext(context);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${where}: context "${context}" names cluster "${ctx.cluster}", which is not in the file`,
    );
  return { kc, files, context, server: cluster.server };
}

/** The arguments that point kubectl at a kubeconfig file and one of its contexts. */
export function kubectlArgs(kubeconfigFile: string, context?: string): string[] {
  return ['--kubeconfig', kubeconfigFile, ...(context ? ['--context', context] : [])];
}
