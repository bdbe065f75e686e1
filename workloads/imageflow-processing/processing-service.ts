/**
 * The gRPC contract between the pipeline worker and the processing services:
 * `/imageflow.processing.v1.ImageProcessor/Process`, unary. A message is a 4-byte big-endian length,
 * a JSON header of that length, then the image bytes (a binary PPM). Each stage's service answers the
 * processed image and a header naming the pod (and GPU devices) that did the work.
 */
import * as grpc from '@grpc/grpc-js';

export interface ProcessRequest {
  jobId: string;
  image: Buffer;
}

export interface ProcessReply {
  stage: string;
  pod: string;
  node?: string;
  /** NVIDIA_VISIBLE_DEVICES of the pod that answered (the GPU stage needs one). */
  gpus?: string;
  detections?: { x: number; y: number; width: number; height: number; area: number }[];
  durationMs: number;
  image: Buffer;
}

function frame(header: object, image: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json, image]);
}

function unframe(buf: Buffer): { header: Record<string, unknown>; image: Buffer } {
  const n = buf.readUInt32BE(0);
  return { header: JSON.parse(buf.toString('utf8', 4, 4 + n)), image: buf.subarray(4 + n) };
}

export const imageProcessorService = {
  process: {
    path: '/imageflow.processing.v1.ImageProcessor/Process',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: ProcessRequest) => frame({ jobId: r.jobId }, r.image),
    requestDeserialize: (b: Buffer): ProcessRequest => {
      const { header, image } = unframe(b);
      return { jobId: String(header['jobId']), image };
    },
    responseSerialize: (r: ProcessReply) => {
      const { image, ...header } = r;
      return frame(header, image);
    },
    responseDeserialize: (b: Buffer): ProcessReply => {
      const { header, image } = unframe(b);
      return { ...(header as Omit<ProcessReply, 'image'>), image };
    },
  },
} satisfies grpc.ServiceDefinition;

export const ImageProcessorClient = grpc.makeGenericClientConstructor(
  imageProcessorService,
  'ImageProcessor',
);

/** Calls one stage; rejects with the gRPC status when the call fails or takes longer than `deadlineMs`. */
export function callStage(
  client: grpc.Client,
  request: ProcessRequest,
  deadlineMs: number,
): Promise<ProcessReply> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      imageProcessorService.process.path,
      imageProcessorService.process.requestSerialize,
      imageProcessorService.process.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, reply) => (err ? reject(err) : resolve(reply!)),
    );
  });
}
