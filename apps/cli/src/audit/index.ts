export { readRecords, RecordReader, type ReadResult } from "./read-records.ts";
export { matches, parseDecision, parseTime, type AuditFilter } from "./filter.ts";
export { formatSummary, summarise, type AuditSummary, type ThrottledIdentity } from "./summary.ts";
