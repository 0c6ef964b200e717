/** The report writers, one per format of src/common/reports/formats.ts (a missing one is a type error). */
import type { ReportFormat } from '../../../common/reports/formats';
import { htmlReport } from './html';
import type { ReportWriter } from './writer';

export const REPORT_WRITERS: { readonly [F in ReportFormat]: ReportWriter } = {
  html: htmlReport,
};
