import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Box {
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
  probability?: number;
}
type Rect = { left: number; top: number; right: number; bottom: number };

/**
 * The console's box overlay alone, on a 480×360 picture, with the boxes a test chooses: the api's models cannot be
 * made to return nested boxes on purpose.
 */
const BUNDLE = `
  import { createElement } from 'react';
  import { flushSync } from 'react-dom';
  import { createRoot } from 'react-dom/client';
  import { BoxesOverlay } from './apps/console/src/components/boxes-overlay';
  const root = createRoot(document.getElementById('root'));
  window.drawBoxes = (predicted, expected) =>
    flushSync(() =>
      root.render(
        createElement(
          BoxesOverlay,
          { predicted, expected },
          createElement('div', { style: { width: '480px', height: '360px', background: '#888' } }),
        ),
      ),
    );
`;

/** Each caption's place and text, most probable first as the overlay draws them last. */
async function captionsAfterDrawing(page: Page, predicted: Box[], expected: Box[] = []) {
  await page.evaluate(`drawBoxes(${JSON.stringify(predicted)}, ${JSON.stringify(expected)})`);
  return page.locator('.overlay').evaluate((overlay) => {
    const origin = overlay.getBoundingClientRect();
    return [...overlay.querySelectorAll('span')].map((span) => {
      const rect = span.getBoundingClientRect();
      const box = span.parentElement!.getBoundingClientRect();
      const relative = (of: { left: number; top: number; right: number; bottom: number }) => ({
        left: of.left - origin.left,
        top: of.top - origin.top,
        right: of.right - origin.left,
        bottom: of.bottom - origin.top,
      });
      return { text: span.textContent!, caption: relative(rect), box: relative(box) };
    });
  });
}

const overlapping = (captions: { text: string; caption: Rect }[]) =>
  captions.flatMap(({ text, caption: a }, index) =>
    captions
      .slice(index + 1)
      .filter(({ caption: b }) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
      .map((other) => `${text} / ${other.text}`),
  );

describe('console: captions of the boxes drawn over a photo', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: BUNDLE, resolveDir: ROOT, loader: 'tsx' },
      bundle: true,
      write: false,
      format: 'iife',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>');
    await page.addStyleTag({ path: join(ROOT, 'apps/console/src/styles.css') });
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("puts a nested box's caption where the box around it does not hide it", async () => {
    const captions = await captionsAfterDrawing(page, [
      { label: 'Fork', x: 0.1, y: 0.3, width: 0.6, height: 0.6, probability: 0.87 },
      { label: 'Fork', x: 0.12, y: 0.32, width: 0.3, height: 0.3, probability: 0.59 },
    ]);
    expect(overlapping(captions)).toEqual([]);
    const [nested, outer] = captions;
    expect([nested.text, outer.text]).toEqual(['Fork 59%', 'Fork 87%']);
    // The most probable keeps its place above its box; the nested one goes inside its own box.
    expect(outer.caption.bottom).toBeLessThanOrEqual(outer.box.top + 1);
    expect([nested.caption.top >= nested.box.top, nested.caption.bottom <= nested.box.bottom]).toEqual([true, true]);
  });

  it('stacks the captions of boxes sharing a corner, and keeps them clear of the labeled boxes’ captions', async () => {
    const corner = { x: 0.2, y: 0.25, label: 'cup' };
    const captions = await captionsAfterDrawing(
      page,
      [0.9, 0.7, 0.5, 0.3].map((probability, index) => ({
        ...corner,
        width: 0.5 - index * 0.1,
        height: 0.5 - index * 0.1,
        probability,
      })),
      [{ ...corner, label: 'plate', y: 0.05, width: 0.3, height: 0.2 }],
    );
    expect(captions.map((caption) => caption.text)).toEqual(['plate', 'cup 30%', 'cup 50%', 'cup 70%', 'cup 90%']);
    expect(overlapping(captions)).toEqual([]);
  });

  it('keeps the caption of a box at the top edge on the photo', async () => {
    const [caption] = await captionsAfterDrawing(page, [
      { label: 'knife', x: 0.5, y: 0.01, width: 0.3, height: 0.4, probability: 0.95 },
    ]);
    expect(caption.caption.top).toBeGreaterThanOrEqual(0);
  });
});
