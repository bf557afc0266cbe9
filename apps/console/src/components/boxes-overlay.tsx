import { type CSSProperties, type ReactNode, useLayoutEffect, useRef, useState } from 'react';
import { useLabelColour } from './label-colours';

export interface DrawnBox {
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Predicted boxes carry their probability; expected (labeled) ones do not. */
  probability?: number;
}

/**
 * A picture with boxes drawn over it, positioned in fractions of its size, each in its label's colour: labeled
 * regions dashed, predictions solid with their probability. A prediction's caption sits above its box unless that
 * spot is off the picture or taken by a more probable box's caption; then inside the box's top, its bottom, below
 * it, or else just under the captions in the way, so that no caption hides another.
 */
export function BoxesOverlay({
  children,
  expected = [],
  predicted = [],
  className = '',
  style,
}: {
  children: ReactNode;
  expected?: DrawnBox[];
  predicted?: DrawnBox[];
  className?: string;
  style?: CSSProperties;
}) {
  const overlay = useRef<HTMLDivElement>(null);
  // Each predicted caption's top in pixels from its box's top, in drawing order; measured once drawn.
  const [captionTops, setCaptionTops] = useState<number[]>([]);
  useLayoutEffect(() => {
    const element = overlay.current;
    if (!element) return;
    const place = () => {
      const tops = placeCaptions(element);
      setCaptionTops((current) => (current.join() === tops.join() ? current : tops));
    };
    place();
    // The picture scales with the page: captions keep their size while boxes do not.
    const observer = new ResizeObserver(place);
    observer.observe(element);
    return () => observer.disconnect();
  }, [expected, predicted]);
  return (
    <div ref={overlay} className={`overlay ${className}`} style={style}>
      {children}
      {expected.map((box, index) => (
        <Box key={`e${index}`} box={box} kind="expected-box" caption={box.label} />
      ))}
      {/* Least probable first, so where boxes overlap the most probable one is drawn last, on top. */}
      {[...predicted]
        .sort((a, b) => (a.probability ?? 0) - (b.probability ?? 0))
        .map((box, index) => (
          <Box
            key={`p${index}`}
            box={box}
            kind="predicted-box"
            caption={`${box.label} ${Math.round((box.probability ?? 0) * 100)}%`}
            captionTop={captionTops[index]}
          />
        ))}
    </div>
  );
}

function Box({
  box,
  kind,
  caption,
  captionTop,
}: {
  box: DrawnBox;
  kind: string;
  caption: string;
  captionTop?: number;
}) {
  const colourOf = useLabelColour();
  return (
    <div
      className={kind}
      data-label={box.label}
      style={
        {
          left: `${box.x * 100}%`,
          top: `${box.y * 100}%`,
          width: `${box.width * 100}%`,
          height: `${box.height * 100}%`,
          '--label-colour': colourOf(box.label),
        } as CSSProperties
      }
    >
      <span style={captionTop === undefined ? undefined : { top: `${captionTop}px` }}>{caption}</span>
    </div>
  );
}

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const overlaps = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * Where each predicted caption goes (its top relative to its box), most probable first: the first free spot of above,
 * inside at the top, inside at the bottom and below, within the picture; else under the captions in its way. The
 * labeled boxes' captions (under their boxes) are in the way too.
 */
function placeCaptions(overlay: HTMLElement): number[] {
  const origin = overlay.getBoundingClientRect();
  const taken: Rect[] = [...overlay.querySelectorAll<HTMLElement>('.expected-box > span')].map((caption) => {
    const rect = caption.getBoundingClientRect();
    return {
      left: rect.left - origin.left,
      top: rect.top - origin.top,
      right: rect.right - origin.left,
      bottom: rect.bottom - origin.top,
    };
  });
  const captions = [...overlay.querySelectorAll<HTMLElement>('.predicted-box > span')];
  const tops = captions.map(() => 0);
  for (let index = captions.length - 1; index >= 0; index -= 1) {
    const caption = captions[index];
    const box = caption.parentElement!;
    // A caption's top counts from inside the box's border.
    const border = box.clientTop;
    const outline = box.getBoundingClientRect();
    const [left, boxTop] = [outline.left - origin.left + border, outline.top - origin.top + border];
    const [width, height] = [caption.offsetWidth, caption.offsetHeight];
    // Hidden (small thumbnails show no captions): nothing to place.
    if (width === 0 || height === 0) continue;
    const at = (top: number): Rect => ({ left, top: boxTop + top, right: left + width, bottom: boxTop + top + height });
    const candidates = [-height - border, 0, box.clientHeight - height, box.clientHeight + border].filter(
      (top) => boxTop + top >= 0 && boxTop + top + height <= origin.height,
    );
    let top = candidates.find((candidate) => !taken.some((rect) => overlaps(rect, at(candidate))));
    if (top === undefined) {
      // Every spot taken: just under whatever is in the way, until nothing is.
      top = 0;
      for (let blocking = taken.find((rect) => overlaps(rect, at(0))); blocking;) {
        top = blocking.bottom - boxTop;
        const placed = at(top);
        blocking = taken.find((rect) => overlaps(rect, placed));
      }
    }
    tops[index] = top;
    taken.push(at(top));
  }
  return tops;
}
