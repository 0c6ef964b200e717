import * as THREE from 'three';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { disposeTree, lineSegments, ThreeStage, WebGLUnavailableError } from './threeStage';

describe('lineSegments', () => {
  it('makes one segment per pair of xyz triples, opaque unless an opacity below 1 is given', () => {
    const opaque = lineSegments([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1], '#7b8794');
    expect(opaque.geometry.getAttribute('position').count).toBe(4);
    const m = opaque.material as THREE.LineBasicMaterial;
    expect(m.transparent).toBe(false);
    expect(m.opacity).toBe(1);
    expect(`#${m.color.getHexString(THREE.SRGBColorSpace)}`).toBe('#7b8794');
    const faint = lineSegments([0, 0, 0, 1, 1, 1], '#000000', 0.4).material as THREE.LineBasicMaterial;
    expect(faint.transparent).toBe(true);
    expect(faint.opacity).toBe(0.4);
  });
});

describe('disposeTree', () => {
  it('disposes every geometry, material and material map below the root', () => {
    const root = new THREE.Group();
    const texture = new THREE.Texture();
    const mesh = new THREE.Mesh(new THREE.BoxGeometry(), [new THREE.MeshBasicMaterial({ map: texture }), new THREE.MeshBasicMaterial()]);
    const line = lineSegments([0, 0, 0, 1, 1, 1], '#000000');
    const child = new THREE.Group();
    child.add(line);
    root.add(mesh, child);
    const spies = [
      vi.spyOn(mesh.geometry, 'dispose'),
      vi.spyOn(texture, 'dispose'),
      ...(mesh.material as THREE.Material[]).map((m) => vi.spyOn(m, 'dispose')),
      vi.spyOn(line.geometry, 'dispose'),
      vi.spyOn(line.material as THREE.Material, 'dispose'),
    ];
    disposeTree(root);
    for (const s of spies) expect(s).toHaveBeenCalledTimes(1);
  });
});

describe('ThreeStage without WebGL', () => {
  afterEach(() => vi.unstubAllGlobals());

  const fakeDocument = (getContext: () => unknown): void => {
    vi.stubGlobal('document', {
      createElement: () => ({ className: '', setAttribute: () => undefined, appendChild: () => undefined, getContext }),
    });
  };
  const options = {
    testId: 't',
    ariaLabel: 'a',
    cameraPosition: [1, 1, 1],
    target: [0, 0, 0],
    markerRadius: 0.04,
    markerMaterial: {},
    onPointerMove: () => undefined,
    onPointerLeave: () => undefined,
    onContextLost: () => undefined,
  } as const;

  it('throws WebGLUnavailableError and leaves the host alone when no WebGL 2 context is given', () => {
    fakeDocument(() => null);
    const append = vi.fn();
    const host = { append } as unknown as HTMLElement;
    expect(() => new ThreeStage(host, options)).toThrow(WebGLUnavailableError);
    expect(() => new ThreeStage(host, options)).toThrow(/could not create a WebGL 2 context/);
    expect(append).not.toHaveBeenCalled();
  });

  it('wraps an error thrown by getContext', () => {
    fakeDocument(() => {
      throw new Error('blocked');
    });
    const host = { append: vi.fn() } as unknown as HTMLElement;
    let err: unknown;
    try {
      new ThreeStage(host, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebGLUnavailableError);
    expect((err as Error).name).toBe('WebGLUnavailableError');
    expect((err as Error).message).toBe('WebGL is not available in this window, so the 3D surface cannot be drawn (blocked).');
  });
});
