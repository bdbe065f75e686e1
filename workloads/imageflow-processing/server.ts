/**
 * An ImageFlowCanvas processing service (seed 003 §8.0.3, "gRPC常駐サービス群"): one stage per
 * Deployment, chosen by PROCESSING_STAGE — `resize` (to RESIZE_WIDTH), `detect` (bright objects as
 * bounding boxes; needs a GPU: it exits when NVIDIA_VISIBLE_DEVICES names none, as a CUDA program
 * finds no device), `filter` (grey scale). gRPC on GRPC_PORT (8080).
 */
import * as grpc from '@grpc/grpc-js';
import { log } from '../lib/log.ts';
import { detect, grayscale, resize } from './image-operations.ts';
import { decodePixmap, encodePixmap } from './pixmap.ts';
import { imageProcessorService, type ProcessReply, type ProcessRequest } from './processing-service.ts';

const stage = process.env['PROCESSING_STAGE'] ?? '';
const port = Number(process.env['GRPC_PORT'] ?? '8080');
const pod = process.env['HOSTNAME'] ?? 'unknown';
const gpus = process.env['NVIDIA_VISIBLE_DEVICES'];

function fail(msg: string): never {
  log('error', msg);
  process.exit(1);
}

if (!['resize', 'detect', 'filter'].includes(stage))
  fail(`PROCESSING_STAGE must be resize, detect or filter; got ${JSON.stringify(stage)}`);
if (stage === 'detect' && (!gpus || gpus === 'void' || gpus === 'none'))
  fail('detect needs a GPU: no device in NVIDIA_VISIBLE_DEVICES (request nvidia.com/gpu on a GPU node)');
const width = Number(process.env['RESIZE_WIDTH'] ?? '64');
const threshold = Number(process.env['DETECT_THRESHOLD'] ?? '128');

function handle(req: ProcessRequest): ProcessReply {
  const t0 = performance.now();
  const input = decodePixmap(req.image);
  let reply: Omit<ProcessReply, 'durationMs'>;
  if (stage === 'resize') reply = { stage, pod, image: encodePixmap(resize(input, width)) };
  else if (stage === 'detect')
    reply = { stage, pod, gpus, detections: detect(input, threshold), image: req.image };
  else reply = { stage, pod, image: encodePixmap(grayscale(input)) };
  return { ...reply, durationMs: performance.now() - t0 };
}

const server = new grpc.Server();
server.addService(imageProcessorService, {
  process: (
    call: grpc.ServerUnaryCall<ProcessRequest, ProcessReply>,
    done: grpc.sendUnaryData<ProcessReply>,
  ) => {
    try {
      done(null, handle(call.request));
    } catch (err) {
      done({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
    }
  },
});
server.bindAsync(
  `${process.env['POD_IP'] || '0.0.0.0'}:${port}`,
  grpc.ServerCredentials.createInsecure(),
  (err) => {
    if (err) fail(`cannot listen on ${port}: ${err.message}`);
    log('info', `${stage} service listening`, { port, gpus });
  },
);
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => server.tryShutdown(() => process.exit(0)));
