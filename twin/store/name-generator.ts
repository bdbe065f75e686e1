import { randomBytes } from 'node:crypto';

/** The alphabet of rand.String (k8s.io/apimachinery/pkg/util/rand): no vowels, no look-alikes. */
export const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
/** names.randomLength: the length of the random suffix generateName gets. */
export const RANDOM_LENGTH = 5;
/** names.MaxGeneratedNameLength: a longer generateName is cut to this before the suffix (63 − 5). */
export const MAX_GENERATED_NAME_LENGTH = 63 - RANDOM_LENGTH;
/**
 * maxNameGenerationCreateAttempts of the API server's generic registry (KEP-4420 RetryGenerateName,
 * GA in 1.32): a create with generateName whose generated name is taken is tried again with a fresh
 * name, up to 8 attempts in all, before the conflict reaches the client.
 */
export const MAX_NAME_GENERATION_CREATE_ATTEMPTS = 8;

// Random bytes drawn in batches; a byte is used when below the largest multiple of the alphabet's
// length (243 = 9 × 27), so every character is equally likely.
const POOL_SIZE = 4096;
const ACCEPT_BELOW = Math.floor(256 / ALPHANUMS.length) * ALPHANUMS.length;
let pool = randomBytes(POOL_SIZE);
let at = 0;

function randomIndex(): number {
  for (;;) {
    if (at >= POOL_SIZE) {
      pool = randomBytes(POOL_SIZE);
      at = 0;
    }
    const byte = pool[at++]!;
    if (byte < ACCEPT_BELOW) return byte % ALPHANUMS.length;
  }
}

/** rand.String(n): n characters of ALPHANUMS, each uniformly random. */
export function randomString(length = RANDOM_LENGTH): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMS[randomIndex()];
  return out;
}

/** names.SimpleNameGenerator.GenerateName: the base cut to 58 characters, then 5 random characters. */
export function generateName(base: string): string {
  return `${base.length > MAX_GENERATED_NAME_LENGTH ? base.slice(0, MAX_GENERATED_NAME_LENGTH) : base}${randomString()}`;
}

/**
 * The generateName prefix of the pods a controller creates (controller.getPodsPrefix): "<name>-",
 * or the bare name when "<name>-" would not be a valid prefix (a name of 253 characters).
 */
export function podsPrefix(controllerName: string): string {
  const prefix = `${controllerName}-`;
  return prefix.length > 253 ? controllerName : prefix;
}
