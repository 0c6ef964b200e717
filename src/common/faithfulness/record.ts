/** The per-example record a faithfulness run keeps as a `token-importance` JSON artifact (token strips in the UI and the report). */
export interface ExampleRecord {
  readonly example: number;
  readonly id: string;
  readonly tokens: string[];
  readonly label: number | null;
  readonly predicted: number;
  readonly probs: number[];
  /** Importance per token position, by method (attention = mean over layers and heads of the explained query's row). */
  readonly importance: Record<string, number[]>;
  /** The explained query's attention row in each layer, averaged over heads: [L][n]. */
  readonly attentionByLayer: number[][];
  /**
   * Image models: the patch grid the tokens after `prefix` cover (row-major), and the name of the
   * run's `picture` artifact ([height, width, 4] RGBA, the picture as the model sees it).
   */
  readonly grid?: { readonly rows: number; readonly columns: number; readonly prefix: number; readonly picture: string };
}
