#!/usr/bin/env node
// `npx twin …`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
