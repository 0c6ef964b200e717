/**
 * Report formats: what each is called, its file extension and MIME type. The contract's
 * `reports.export` names its format from this table; each format's writer lives in
 * src/node/reports/formats/ and is filed under the same name in that folder's registry.
 *
 * Adding a format: a line here and a writer beside html.ts with its line in the node registry.
 */
export interface ReportFormatDefinition {
  readonly title: string;
  /** File name extension, without the dot. */
  readonly extension: string;
  readonly mimeType: string;
  readonly description: string;
}

export const REPORT_FORMATS = {
  html: {
    title: 'HTML',
    extension: 'html',
    mimeType: 'text/html',
    description: 'one self-contained HTML file: summary tables, figures as inline SVG and images, the spec and provenance; no network',
  },
} as const satisfies Record<string, ReportFormatDefinition>;

export type ReportFormat = keyof typeof REPORT_FORMATS;
export const reportFormats = Object.keys(REPORT_FORMATS) as [ReportFormat, ...ReportFormat[]];

/** The file name of run `runId`'s report in `format`. */
export function reportFileName(runId: number, format: ReportFormat): string {
  return `attention-workbench-run-${runId}.${REPORT_FORMATS[format].extension}`;
}
