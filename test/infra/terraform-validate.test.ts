import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { terraformCliConfig } from '../../env/local/aws-data-plane.ts';

const root = path.resolve(import.meta.dirname, '../..');
const mirror = process.env['TWIN_TF_PLUGIN_MIRROR'] ?? '/opt/tf-plugins';
const hasTerraform =
  (process.env['PATH'] ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'terraform'))) &&
  existsSync(path.join(mirror, 'registry.terraform.io', 'hashicorp', 'aws'));

/** Every Terraform root: infra/<system>/terraform/environments/<name>. */
const roots = readdirSync(path.join(root, 'infra')).flatMap((system) => {
  const envs = path.join(root, 'infra', system, 'terraform', 'environments');
  return existsSync(envs)
    ? readdirSync(envs).map((e) => path.join('infra', system, 'terraform', 'environments', e))
    : [];
});

const scratch = mkdtempSync(path.join(tmpdir(), 'twin-tf-validate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!hasTerraform)(
  `Terraform roots validate (terraform with the hashicorp/aws provider from ${mirror}${hasTerraform ? '' : ': not found here'})`,
  () => {
    writeFileSync(path.join(scratch, 'cli.tfrc'), terraformCliConfig(mirror));
    it.each(roots)(
      '%s',
      async (rel) => {
        // A copy, so that init writes nothing into the repository and the S3 backend is not contacted.
        const copy = path.join(scratch, rel.replaceAll('/', '_'));
        cpSync(path.join(root, rel, '../..'), copy, { recursive: true });
        const dir = path.join(copy, 'environments', path.basename(rel));
        const env = {
          ...process.env,
          TF_CLI_CONFIG_FILE: path.join(scratch, 'cli.tfrc'),
          TF_IN_AUTOMATION: '1',
        };
        const init = await execa('terraform', ['init', '-backend=false', '-input=false', '-no-color'], {
          cwd: dir,
          env,
          reject: false,
        });
        expect(init.exitCode, init.stderr || init.stdout).toBe(0);
        const validate = await execa('terraform', ['validate', '-no-color'], {
          cwd: dir,
          env,
          reject: false,
        });
        expect(validate.exitCode, validate.stderr || validate.stdout).toBe(0);
        const fmt = await execa('terraform', ['fmt', '-check', '-recursive', '-no-color', copy], {
          env,
          reject: false,
        });
        expect(fmt.exitCode, `terraform fmt would change: ${fmt.stdout}`).toBe(0);
      },
      120_000,
    );
  },
);
