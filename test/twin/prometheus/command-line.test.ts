import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlagError, parseFlags } from '../../../twin/prometheus/command-line.ts';
import { REPO_ROOT } from '../../workloads/spawn-workload.ts';

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'twin/prometheus/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the prometheus command line', () => {
  it("takes the production manifest's arguments", () => {
    const f = parseFlags([
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=15d',
      '--web.enable-lifecycle',
    ]);
    expect(f).toMatchObject({
      configFile: '/etc/prometheus/prometheus.yml',
      storagePath: '/prometheus',
      retentionMs: 15 * 86_400_000,
      enableLifecycle: true,
      listenAddress: '0.0.0.0:9090',
      lookbackDeltaMs: 300_000,
    });
  });

  it('parses values as kingpin does and rejects what it rejects', () => {
    expect(parseFlags(['--web.listen-address', ':9091', '--no-web.enable-lifecycle'])).toMatchObject({
      listenAddress: ':9091',
      enableLifecycle: false,
    });
    expect(parseFlags(['--enable-feature=a,b', '--enable-feature=c']).features).toEqual(['a', 'b', 'c']);
    const error = (args: string[]) => {
      try {
        parseFlags(args);
      } catch (err) {
        if (err instanceof FlagError) return err.message;
      }
      return 'accepted';
    };
    expect(error(['--storage.tsdb.retention.days=15'])).toBe(
      "unknown long flag '--storage.tsdb.retention.days'",
    );
    expect(error(['-x'])).toBe("unknown short flag '-x'");
    expect(error(['--config.file'])).toBe("expected argument for flag '--config.file'");
    expect(error(['--query.lookback-delta=5x'])).toBe('not a valid duration string: "5x"');
    expect(error(['--config.file=a', '--config.file=b'])).toBe("flag 'config.file' cannot be repeated");
    expect(error(['--log.level=verbose'])).toBe(
      "enum value must be one of debug,info,warn,error, got 'verbose'",
    );
    expect(error(['serve'])).toBe('unexpected serve');
  });

  it('exits 2 on an unknown flag and on an invalid configuration, saying why', async () => {
    const flag = await run(['--web.enable-lifecyle']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(
      "Error parsing command line arguments: unknown long flag '--web.enable-lifecyle'",
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'prom-cli-'));
    const file = path.join(dir, 'prometheus.yml');
    writeFileSync(file, 'scrape_configs:\n  - job_name: a\n    scrape_intervl: 5s\n');
    const config = await run([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('level=error msg="Error loading config (--config.file=');
    expect(config.stderr).toContain('field scrape_intervl not found in type config.ScrapeConfig');
  });
});
