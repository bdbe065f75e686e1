export { type CheckContext, loadForCheck } from './check-context.ts';
export { CHECKS, type CheckReport, checkedPairs, checkSystem } from './check-system.ts';
export {
  countBySeverity,
  type Finding,
  formatFinding,
  SEVERITIES,
  type Severity,
  sortFindings,
} from './finding.ts';
export { placeholderReason } from './secret-placeholders.ts';
