import { ProcessWideGate } from '@diyml/core/pure';

/**
 * Pixels decoded at once by the process: one image of the largest size the api takes by default (52 MP), or several
 * smaller ones. Decoding costs memory by the pixel, not by the byte: libvips decodes a GIF onto its whole canvas (4
 * bytes a pixel, ~230 MB for 7,200 × 7,200 from a 36 KB file), so eight such uploads embedded four at a time in the
 * background took the api to 1 GB. An image over this size (a limit raised in the settings) is decoded alone.
 */
export const DECODING_BUDGET_PIXELS = 52_000_000;

/**
 * The one pixel budget of this process's image decoding, shared by all its threads: uploads, thumbnails and
 * predictions on the api's main thread, the embedding, training and test-run decodes on worker threads (which get it
 * when started, provided this module was loaded first, as the api loads it at start-up). Run every decode of encoded
 * bytes in it, weighted by the pixels it decodes, and never inside another run of it (a run waiting for room held by
 * its caller waits forever).
 */
export const decodingBudget = ProcessWideGate.named('image-decoding-pixels', DECODING_BUDGET_PIXELS);
