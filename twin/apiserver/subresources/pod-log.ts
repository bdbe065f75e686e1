import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../../kube/object.ts';
import type { ContainerLog } from '../../kubelet/pod-worker.ts';
import { badRequest } from '../status-error.ts';

/** Where the API server reads container logs from (the kubelet). */
export interface PodLogSource {
  containerLog(namespace: string, pod: string, container: string): ContainerLog | undefined;
}

export interface LogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Control-plane epoch ms: only lines from then on. */
  since?: number;
}

/** The container `?container=` names, or the only one; 400 with the API server's wording otherwise. */
export function containerOf(pod: Readonly<KubeObject>, wanted: string | null): string {
  const names: string[] = [
    ...(pod.spec?.containers ?? []).map((c: any) => c.name),
    ...(pod.spec?.initContainers ?? []).map((c: any) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c: any) => c.name),
  ];
  const main: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  if (!wanted) {
    if (main.length === 1) return main[0]!;
    throw badRequest(
      `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(' ')}]${
        (pod.spec?.initContainers ?? []).length
          ? ` or one of the init containers: [${pod.spec.initContainers.map((c: any) => c.name).join(' ')}]`
          : ''
      }`,
    );
  }
  if (!names.includes(wanted))
    throw badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
  return wanted;
}

function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * Writes a container's log as the kubelet serves `GET pods/<name>/log`: the current instance's output
 * (or the previous one's with `previous`), the last `tailLines`, from `since`, at most `limitBytes`,
 * each line prefixed with its time with `timestamps`, and with `follow` new output as it is written
 * until the instance ends, the pod goes or the client leaves. An emulated container has no output.
 *
 * Twin simplification: line times are the control-plane time their chunk of output arrived at.
 */
export async function writePodLog(
  res: ServerResponse,
  pod: Readonly<KubeObject>,
  log: ContainerLog | undefined,
  options: LogOptions,
  podGone: () => boolean,
): Promise<void> {
  const name = pod.metadata.name;
  if (options.previous) {
    if (!log?.previous)
      throw badRequest(`previous terminated container "${options.container}" in pod "${name}" not found`);
  } else if (log?.live && !log.current) {
    throw badRequest(
      `container "${options.container}" in pod "${name}" is waiting to start: ${log.waiting ?? 'ContainerCreating'}`,
    );
  }
  const instance = options.previous ? log?.previous : log?.current;
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  if (!instance) {
    res.end();
    return;
  }
  const end = options.previous ? (log?.current?.logStart ?? undefined) : undefined;
  let budget = options.limitBytes ?? Number.POSITIVE_INFINITY;
  const timeAt = (offset: number) => {
    let t = instance.startedAt;
    for (const c of instance.timedChunks) {
      if (c.offset > offset) break;
      t = c.time;
    }
    return t;
  };
  const emit = (text: string, startOffset: number): void => {
    if (budget <= 0 || text === '') return;
    let out = text;
    if (options.timestamps || options.since !== undefined) {
      const lines = text.split(/(?<=\n)/);
      let offset = startOffset;
      out = '';
      for (const line of lines) {
        const t = timeAt(offset);
        offset += Buffer.byteLength(line);
        if (options.since !== undefined && t < options.since) continue;
        out += options.timestamps ? `${rfc3339Nano(t)} ${line}` : line;
      }
    }
    const bytes = Buffer.from(out);
    const chunk = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
    budget -= chunk.length;
    res.write(chunk);
  };
  let position = instance.logStart;
  const readTo = async (
    limit?: number,
    wholeLines = options.follow && !options.previous,
  ): Promise<{ text: string; start: number }> => {
    let size: number;
    try {
      size = (await stat(instance.logFile)).size;
    } catch {
      return { text: '', start: position };
    }
    const stop = limit === undefined ? size : Math.min(limit, size);
    if (stop <= position) return { text: '', start: position };
    const fh = await open(instance.logFile, 'r');
    try {
      const buf = Buffer.alloc(stop - position);
      await fh.read(buf, 0, buf.length, position);
      // Only whole lines while following; the rest is read with the next chunk.
      let usable = buf.length;
      if (wholeLines) usable = buf.lastIndexOf(0x0a) + 1;
      const start = position;
      position += usable;
      return { text: buf.subarray(0, usable).toString('utf8'), start };
    } finally {
      await fh.close();
    }
  };
  const first = await readTo(end, false);
  let text = first.text;
  let start = first.start;
  if (options.tailLines !== undefined) {
    const lines = text.split(/(?<=\n)/).filter((l) => l !== '');
    const kept = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    const dropped = lines.slice(0, lines.length - kept.length).join('');
    start += Buffer.byteLength(dropped);
    text = kept.join('');
  }
  emit(text, start);
  if (!options.follow || options.previous || budget <= 0) {
    res.end();
    return;
  }
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  let exited = !instance.running;
  void instance.exited.then(() => {
    exited = true;
  });
  while (!closed && budget > 0) {
    const next = await readTo();
    emit(next.text, next.start);
    if (exited || podGone()) {
      const rest = await readTo(undefined, false);
      emit(rest.text, rest.start);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!res.writableEnded) res.end();
}
