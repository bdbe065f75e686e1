export { analysisMeasurementsOf, mergeAnalysisMeasurements } from './analysis-measurements.ts';
export { REPORT_HTML, renderHtmlReport, writeHtmlReport } from './html-report.ts';
export { JUNIT_XML, renderJunit, writeJunit } from './junit.ts';
export { type WrittenReport, writeReport } from './report-writer.ts';
export { RESULT_JSON, writeResultJson } from './result-json.ts';
export type {
  AnalysisMeasurement,
  RunAttachment,
  RunMeasurement,
  RunRecord,
  RunStep,
  StepStatus,
  TimelineEvent,
  TimelineSample,
} from './run-record.ts';
export {
  type ParsedSeriesKey,
  parseSeriesKey,
  SERIES_METRICS,
  type SeriesLabels,
  seriesKey,
  seriesLabel,
} from './series.ts';
