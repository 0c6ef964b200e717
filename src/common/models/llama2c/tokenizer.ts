/**
 * The llama2.c tokenizer (`tokenizer.bin`, e.g. tok512.bin): a SentencePiece BPE vocabulary
 * stored as int32 max_token_length, then per token float32 score, int32 byte length and the
 * token's UTF-8 bytes (little-endian). The file does not store the vocabulary size; the model
 * does, so parsing takes it optionally and otherwise reads to the end of the file.
 *
 * encode() follows llama2.c's run.c: optional BOS (id 1), a dummy-prefix " " token when the
 * text is not empty, one token per Unicode character (UTF-8 bytes as <0xXX> byte tokens when a
 * character is not in the vocabulary), then repeatedly merge the adjacent pair whose
 * concatenation is a vocabulary entry with the highest score (the leftmost pair on ties), and an
 * optional EOS (id 2). decode() drops BOS/EOS, removes the leading space of the token right after
 * BOS, and turns <0xXX> tokens back into raw bytes. Pure: no Node built-ins.
 */

export const LLAMA2C_BOS_ID = 1;
export const LLAMA2C_EOS_ID = 2;
const MAX_TOKEN_LENGTH_LIMIT = 1 << 16;

export class Llama2cTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Llama2cTokenizerError';
  }
}

export interface EncodeOptions {
  readonly bos?: boolean;
  readonly eos?: boolean;
}

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

function bytePieceName(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

export class Llama2cTokenizer {
  readonly bosId = LLAMA2C_BOS_ID;
  readonly eosId = LLAMA2C_EOS_ID;
  private readonly lookup = new Map<string, number>();
  /** For each id, the byte of a <0xXX> token, or -1. */
  private readonly byteOf: Int16Array;
  private readonly encoder = new TextEncoder();

  constructor(
    /** Token strings (llama2.c writes SentencePiece's '▁' as ' '). */
    readonly pieces: readonly string[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
  ) {
    if (pieces.length !== scores.length) throw new Llama2cTokenizerError(`${pieces.length} pieces but ${scores.length} scores`);
    this.byteOf = new Int16Array(pieces.length).fill(-1);
    pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
      const m = BYTE_PIECE.exec(p);
      if (m !== null) this.byteOf[id] = parseInt(m[1] ?? '', 16);
    });
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** The id of a vocabulary entry, or undefined. */
  idOf(piece: string): number | undefined {
    return this.lookup.get(piece);
  }

  private pieceOf(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new Llama2cTokenizerError(`token id ${id} is outside the vocabulary (0..${this.pieces.length - 1})`);
    return p;
  }

  /** Ids of one character: its own token, else one <0xXX> byte token per UTF-8 byte. */
  private charIds(ch: string): number[] {
    const id = this.lookup.get(ch);
    if (id !== undefined) return [id];
    return [...this.encoder.encode(ch)].map((b) => {
      const bid = this.lookup.get(bytePieceName(b));
      if (bid === undefined) {
        const cp = ch.codePointAt(0) ?? 0;
        throw new Llama2cTokenizerError(
          `cannot encode character ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}): it is not in the vocabulary and the vocabulary has no byte token ${bytePieceName(b)}`,
        );
      }
      return bid;
    });
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const tokens: number[] = [];
    if (options.bos === true) tokens.push(this.bosId);
    if (text.length > 0) {
      tokens.push(...this.charIds(' '));
      for (const ch of text) tokens.push(...this.charIds(ch));
    }
    // Greedy BPE: merge the best-scoring adjacent pair until none merges.
    for (;;) {
      let bestScore = -Infinity;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const id = this.lookup.get(this.pieceOf(tokens[i] ?? 0) + this.pieceOf(tokens[i + 1] ?? 0));
        if (id !== undefined) {
          const score = this.scores[id] ?? -Infinity;
          if (score > bestScore || bestIdx === -1) {
            bestScore = score;
            bestId = id;
            bestIdx = i;
          }
        }
      }
      if (bestIdx === -1) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (options.eos === true) tokens.push(this.eosId);
    return tokens;
  }

  /** The bytes one token contributes after `prev` (llama2.c's decode step). */
  pieceBytes(prev: number | undefined, id: number): Uint8Array {
    if (id === this.bosId || id === this.eosId) {
      this.pieceOf(id);
      return new Uint8Array(0);
    }
    const b = this.byteOf[id];
    if (b !== undefined && b >= 0) return Uint8Array.of(b);
    let piece = this.pieceOf(id);
    if (prev === this.bosId && piece.startsWith(' ')) piece = piece.slice(1);
    return this.encoder.encode(piece);
  }

  decode(ids: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    ids.forEach((id, i) => {
      const bytes = this.pieceBytes(i > 0 ? ids[i - 1] : undefined, id);
      parts.push(bytes);
      total += bytes.length;
    });
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  }
}

/**
 * Parse a llama2.c tokenizer.bin. With `vocabSize` (the model's), exactly that many tokens must
 * fill the file; without it, tokens are read to the end of the file.
 */
export function parseLlama2cTokenizer(bytes: Uint8Array, vocabSize?: number): Llama2cTokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notTokenizer = (why: string): never => {
    throw new Llama2cTokenizerError(`not a llama2.c tokenizer.bin: ${why}`);
  };
  if (bytes.byteLength < 4) notTokenizer(`the file has ${bytes.byteLength} bytes, fewer than the 4-byte max_token_length header`);
  const maxTokenLength = view.getInt32(0, true);
  if (!(maxTokenLength >= 1 && maxTokenLength <= MAX_TOKEN_LENGTH_LIMIT)) {
    notTokenizer(`max_token_length is ${maxTokenLength}, expected 1..${MAX_TOKEN_LENGTH_LIMIT}`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const scores: number[] = [];
  let off = 4;
  while (vocabSize === undefined ? off < bytes.byteLength : pieces.length < vocabSize) {
    const id = pieces.length;
    if (off + 8 > bytes.byteLength) {
      throw new Llama2cTokenizerError(
        `llama2.c tokenizer.bin is truncated: token ${id} needs a score and a length at byte ${off}, but the file has ${bytes.byteLength} bytes` +
          (vocabSize !== undefined ? ` (the model's vocabulary has ${vocabSize} tokens)` : ''),
      );
    }
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    if (!Number.isFinite(score)) notTokenizer(`token ${id} has score ${score}`);
    if (len < 0 || len > maxTokenLength) notTokenizer(`token ${id} has byte length ${len}, outside 0..max_token_length (${maxTokenLength})`);
    off += 8;
    if (off + len > bytes.byteLength) {
      throw new Llama2cTokenizerError(`llama2.c tokenizer.bin is truncated: token ${id} needs ${len} bytes at byte ${off}, but the file has ${bytes.byteLength} bytes`);
    }
    let piece = '';
    try {
      piece = decoder.decode(bytes.subarray(off, off + len));
    } catch {
      notTokenizer(`token ${id} is not valid UTF-8`);
    }
    off += len;
    pieces.push(piece);
    scores.push(score);
  }
  if (off !== bytes.byteLength) {
    notTokenizer(`${bytes.byteLength - off} bytes are left after the ${pieces.length} tokens of the model's vocabulary`);
  }
  if (pieces.length === 0) notTokenizer('it holds no tokens');
  return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength);
}
