/** Display names from client-supplied file names (no client path is ever used as a path). */

/** A display name from a client-supplied file name: its last path component, trimmed, printable. */
export function displayName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean === '' ? 'model.onnx' : clean;
}

/** The display name of a converted checkpoint: `.onnx` in place of a `.bin` ending (added when there is none). */
export function convertedName(checkpointName: string): string {
  const base = displayName(checkpointName).replace(/\.bin$/i, '');
  const name = /\.onnx$/i.test(base) ? base : `${base.slice(0, 250)}.onnx`;
  return name === '.onnx' ? 'model.onnx' : name;
}
