import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../system/system.ts';
import { CONFORMANCE_CASES } from '../test/conformance/cases/index.ts';
import { renderCatalog, withCatalog } from '../test/conformance/catalog.ts';

/** Rewrites the list of behaviours in docs/conformance.md from the conformance cases. */
const file = path.join(REPO_ROOT, 'docs', 'conformance.md');
writeFileSync(file, withCatalog(readFileSync(file, 'utf8'), renderCatalog(CONFORMANCE_CASES)));
console.log(`${path.relative(process.cwd(), file)}: ${CONFORMANCE_CASES.length} cases`);
