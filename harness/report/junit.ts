import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { RunRecord } from './run-record.ts';

export const JUNIT_XML = 'junit.xml';

/**
 * JUnit XML in the common (Ant/Surefire) schema that CI systems read: one testsuite for the
 * scenario, a testcase per step and per asserted measurement, failures with their message.
 */
export function renderJunit(record: RunRecord): string {
  const suite = record.scenario;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const step of record.steps) {
    const attrs = `name="${xml(step.name)}" classname="${xml(suite)}" time="${seconds(step.startedAt, step.finishedAt)}"`;
    if (step.status === 'failed') {
      failures++;
      const message = step.error ?? 'step failed';
      cases.push(
        `    <testcase ${attrs}>\n      <failure message="${xml(firstLine(message))}" type="StepFailed">${xml(message)}</failure>\n    </testcase>`,
      );
    } else if (step.status === 'skipped') {
      skipped++;
      cases.push(`    <testcase ${attrs}>\n      <skipped/>\n    </testcase>`);
    } else cases.push(`    <testcase ${attrs}/>`);
  }
  for (const m of record.measurements) {
    if (m.passed === undefined) continue;
    const name = `measurement ${m.name}${m.assertion ? ` ${m.assertion}` : ''}`;
    const attrs = `name="${xml(name)}" classname="${xml(`${suite}.measurements`)}" time="0.000"`;
    if (m.passed) cases.push(`    <testcase ${attrs}/>`);
    else {
      failures++;
      const message = `${m.name} = ${m.value} ${m.unit}${m.assertion ? `, expected ${m.assertion}` : ''}`;
      cases.push(
        `    <testcase ${attrs}>\n      <failure message="${xml(message)}" type="AssertionFailed">${xml(message)}</failure>\n    </testcase>`,
      );
    }
  }
  if (record.status === 'failed' && failures === 0) {
    failures++;
    const message = 'the run failed outside its steps (setup or teardown); see the notes';
    cases.push(
      `    <testcase name="run" classname="${xml(suite)}" time="${seconds(record.startedAt, record.finishedAt)}">\n      <failure message="${xml(message)}" type="RunFailed">${xml(record.notes.join('\n'))}</failure>\n    </testcase>`,
    );
  }
  const tests = cases.length;
  const time = seconds(record.startedAt, record.finishedAt);
  const properties = [
    ['runId', record.runId],
    ['environment', record.environment],
    ['system', record.system],
    ['timeScale', String(record.timeScale)],
  ]
    .map(([k, v]) => `      <property name="${xml(k!)}" value="${xml(v!)}"/>`)
    .join('\n');
  const out = record.notes.length > 0 ? `    <system-out>${xml(record.notes.join('\n'))}</system-out>\n` : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="scenarios" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${xml(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xml(timestamp(record.startedAt))}" hostname="${xml(hostname())}">`,
    `    <properties>\n${properties}\n    </properties>`,
    ...cases,
    `${out}  </testsuite>`,
    '</testsuites>',
    '',
  ].join('\n');
}

export async function writeJunit(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, JUNIT_XML);
  await writeFile(file, renderJunit(record));
  return file;
}

/** Escapes for XML text and attributes, dropping characters XML 1.0 cannot hold. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function seconds(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  return (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3);
}

/** JUnit's timestamp is ISO 8601 without a zone designator. */
function timestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace(/\.\d+Z$/, '');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 500);
}
