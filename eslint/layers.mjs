// The import rule of the layers, as an allow-list (README "Architecture").
//
// Every file belongs to one layer, named for where its code can run:
//   src/common        pure TypeScript: runs in Node, in the browser and in a worker
//   src/node          Node: ONNX Runtime, the store, runners, reports, service, web host, CLI
//   src/electron-main the Electron main process
//   src/preload       the sandboxed Electron preload
//   src/browser       the UI
//   test/support      helpers and fixtures used only by tests
//   tooling           bench/, e2e/, scripts/ and the config files
//   manifest          package.json
// and `*.test.ts` files anywhere are tests of the layer they sit in.
//
// A relative import is allowed only when the imported file's layer is in the importer's list
// below; a package (or Node built-in) only when the importer's layer allows packages of that
// kind. Within a layer, a file under experiments/<kind>/ never imports experiments/<other kind>/
// of any layer (shared pieces live in experiments/shared/ of that layer; the registries at
// experiments/registry.ts are the only files that see every kind).
import { builtinModules } from 'node:module';
import path from 'node:path';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Layers a file of each layer may import from (relative imports). */
export const LAYER_IMPORTS = {
  common: ['common'],
  // package.json: the version and dependency list a run records.
  node: ['common', 'node', 'manifest'],
  'electron-main': ['common', 'node', 'electron-main'],
  // The preload imports values only from itself; from common it takes types only (see TYPE_ONLY).
  preload: ['preload', 'common'],
  browser: ['common', 'browser'],
  'test-support': ['common', 'node', 'test-support'],
  test: ['common', 'node', 'browser', 'preload', 'test-support', 'tooling', 'manifest'],
  tooling: ['common', 'node', 'test-support', 'tooling', 'manifest'],
};

/** Imports from these (importer layer -> imported layers) must be `import type`. */
const TYPE_ONLY = { preload: ['common'] };

/**
 * Packages each layer may import. `true`: any package except those in `deny`; a list: only these
 * (the package name, or its first two segments for a scoped package). Node built-ins are a
 * separate switch.
 */
export const LAYER_PACKAGES = {
  common: { allow: ['zod', 'onnx-proto', 'csv-parse'], nodeBuiltins: false },
  node: { allow: true, deny: ['electron'], nodeBuiltins: true },
  'electron-main': { allow: true, deny: [], nodeBuiltins: true },
  preload: { allow: ['electron'], nodeBuiltins: false },
  browser: { allow: ['three', 'zod'], nodeBuiltins: false },
  'test-support': { allow: true, deny: ['electron'], nodeBuiltins: true },
  test: { allow: true, deny: [], nodeBuiltins: true },
  tooling: { allow: true, deny: [], nodeBuiltins: true },
};

const SRC_LAYERS = ['common', 'node', 'electron-main', 'preload', 'browser'];

/** The layer of a repository-relative path (posix separators). */
export function layerOf(rel) {
  if (rel === 'package.json') return 'manifest';
  if (/\.test\.ts$/.test(rel)) return 'test';
  if (rel.startsWith('test/support/')) return 'test-support';
  if (rel.startsWith('test/')) return 'test';
  for (const l of SRC_LAYERS) if (rel.startsWith(`src/${l}/`)) return l;
  return 'tooling';
}

/** The layer a path's code is in for the kind rule and the layer lists: tests count as their folder's layer for kinds. */
function srcLayerOf(rel) {
  for (const l of SRC_LAYERS) if (rel.startsWith(`src/${l}/`)) return l;
  return null;
}

/** `experiments/<kind>/` of a path, or null (`shared` and the registry are not kinds). */
export function experimentKindOf(rel) {
  const m = /^src\/[^/]+\/experiments\/([^/]+)\//.exec(rel);
  if (!m || m[1] === 'shared') return null;
  return m[1];
}

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isTypeOnly(node) {
  if (node.type === 'ImportDeclaration') {
    if (node.importKind === 'type') return true;
    return node.specifiers.length > 0 && node.specifiers.every((s) => s.type === 'ImportSpecifier' && s.importKind === 'type');
  }
  if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') return node.exportKind === 'type';
  return false;
}

const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the allow-list of the layers (eslint/layers.mjs).' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      layer: '{{from}} code may not import {{to}} code ({{spec}}): {{from}} imports only from {{allowed}}.',
      typeOnly: '{{from}} code may import only types from {{to}} ({{spec}}): use `import type`.',
      package: "{{from}} code may not import the package '{{spec}}' (allowed: {{allowed}}).",
      builtin: "{{from}} code may not import the Node built-in '{{spec}}'.",
      kind: 'experiments/{{kind}}/ may not import experiments/{{other}}/ ({{spec}}): put shared pieces in experiments/shared/ of the layer.',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    const rel = path.relative(root, file).split(path.sep).join('/');
    if (rel.startsWith('..')) return {};
    const from = layerOf(rel);
    const ownKind = experimentKindOf(rel);
    const ownSrcLayer = srcLayerOf(rel);

    function check(node, source) {
      if (!source || typeof source.value !== 'string') return;
      const spec = source.value;
      if (spec.startsWith('.')) {
        const target = path.relative(root, path.resolve(path.dirname(file), spec.split('?')[0])).split(path.sep).join('/');
        const to = layerOf(target);
        const allowed = [...LAYER_IMPORTS[from], ...(from === 'test' && ownSrcLayer ? [ownSrcLayer] : [])];
        if (to !== from && !allowed.includes(to)) {
          context.report({ node: source, messageId: 'layer', data: { from, to, spec, allowed: LAYER_IMPORTS[from].join(', ') } });
          return;
        }
        if ((TYPE_ONLY[from] ?? []).includes(to) && !isTypeOnly(node)) {
          context.report({ node: source, messageId: 'typeOnly', data: { from, to, spec } });
          return;
        }
        const otherKind = experimentKindOf(target);
        if (ownKind && otherKind && otherKind !== ownKind) {
          context.report({ node: source, messageId: 'kind', data: { kind: ownKind, other: otherKind, spec } });
        }
        return;
      }
      const rules = LAYER_PACKAGES[from];
      if (NODE_BUILTINS.has(spec)) {
        if (!rules.nodeBuiltins) context.report({ node: source, messageId: 'builtin', data: { from, spec } });
        return;
      }
      const name = packageName(spec);
      const ok = rules.allow === true ? !rules.deny.includes(name) : rules.allow.includes(name);
      if (!ok) {
        const allowed = rules.allow === true ? `any package but ${rules.deny.join(', ')}` : rules.allow.join(', ') || 'none';
        context.report({ node: source, messageId: 'package', data: { from, spec, allowed } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : null),
    };
  },
};

export default { rules: { 'allowed-imports': allowedImports } };
