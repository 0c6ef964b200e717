/** Kernel scaling in the browser: its form and its results. */
import { defineBrowserKind } from '../shared/kind';
import { kernelScalingForm } from './form';
import { kernelScalingResults } from './view';

export const kernelScalingBrowser = defineBrowserKind({ kind: 'kernel-scaling', form: kernelScalingForm, resultSections: kernelScalingResults });
