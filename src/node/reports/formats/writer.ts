/**
 * What a report format's writer does: turn one finished run (typed, as the service reads it from
 * the store) and its stored tensors into the report's content. Every format reads the same data;
 * what each one is called, its extension and MIME type are in src/common/reports/formats.ts.
 */
import type { RunDetail } from '../../../common/contract';
import type { ReportArtifacts } from '../../experiments/shared/kind';

export interface ReportData extends ReportArtifacts {
  /** When the report is generated (ms since the epoch), printed in it. */
  readonly generatedMs: number;
}

export interface ReportWriter {
  write(run: RunDetail, data: ReportData): string;
}
