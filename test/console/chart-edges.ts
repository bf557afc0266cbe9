import type { Page } from 'playwright-core';

/**
 * The charts (by name) whose drawing reaches their left edge: a y axis too narrow for its values cuts them off there
 * ('100.0%' read '00.0%'). Reads the two leftmost pixel columns of each chart's canvas for any ink.
 */
export function chartsCutAtTheLeftEdge(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('.chart')]
    .filter((chart) => {
      const canvas = chart.querySelector('canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, 2, canvas.height).data;
      return pixels.some((value, index) => index % 4 === 3 && value > 0);
    })
    .map((chart) => chart.getAttribute('aria-label'))`);
}
