/**
 * The browser's one base64 module, both directions: stored artifacts arrive base64-encoded
 * (runs.artifact) and model files leave base64-encoded (models.import, models.convertLlama2c).
 * Decoding is strict: anything but canonical padded base64 is refused with a readable message.
 */

/** Canonical base64: groups of four from the standard alphabet, `=` padding only at the end. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Characters per chunk when encoding (keeps String.fromCharCode's argument list small). */
const ENCODE_CHUNK = 0x8000;

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/** The bytes of a base64 string; throws Base64Error when it is not canonical base64. */
export function base64ToBytes(b64: string): Uint8Array {
  if (!BASE64.test(b64)) {
    const bad = /[^A-Za-z0-9+/=]/.exec(b64);
    throw new Base64Error(
      bad ? `not valid base64: unexpected character ${JSON.stringify(bad[0])} at ${bad.index}` : `not valid base64: length ${b64.length} or padding is wrong`,
    );
  }
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Base64 of bytes (padded, standard alphabet). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += ENCODE_CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + ENCODE_CHUNK));
  return btoa(bin);
}

/** A file's contents as base64 (read by the browser natively, without a data: URL prefix). */
export function fileToBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      const comma = url.indexOf(',');
      resolve(comma >= 0 ? url.slice(comma + 1) : '');
    };
    reader.readAsDataURL(file);
  });
}
