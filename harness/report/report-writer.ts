import { mkdir } from 'node:fs/promises';
import { writeHtmlReport } from './html-report.ts';
import { writeJunit } from './junit.ts';
import { writeResultJson } from './result-json.ts';
import type { RunRecord } from './run-record.ts';

export interface WrittenReport {
  resultJson: string;
  reportHtml: string;
  junitXml?: string;
}

/** Writes result.json, report.html and (when asked) junit.xml into `dir`, creating it. */
export async function writeReport(
  dir: string,
  record: RunRecord,
  options: { junit?: boolean } = {},
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const written: WrittenReport = {
    resultJson: await writeResultJson(dir, record),
    reportHtml: await writeHtmlReport(dir, record),
  };
  if (options.junit) written.junitXml = await writeJunit(dir, record);
  return written;
}
