import { type CSSProperties, type KeyboardEvent, type PointerEvent, useEffect, useRef, useState } from 'react';
import type { Label, Region } from '../api/client';
import { LabelSwatch, useLabelColour } from './label-colours';

type Handle = 'move' | 'nw' | 'ne' | 'sw' | 'se';
interface Drag {
  index: number;
  handle: Handle;
  startX: number;
  startY: number;
  original: Region;
}

const MIN_SIZE = 0.01;
const NUDGE = 0.01;
/** Alt with an arrow: a tenth of the photo at a time, for the long way across without 50 presses. */
const LARGE_NUDGE = 0.1;
const clamp = (value: number, min = 0, max = 1) => Math.min(max, Math.max(min, value));
/** The box N adds for a keyboard user, who cannot drag one: the middle of the photo, to move and resize from there. */
const KEYBOARD_BOX = { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };

/**
 * Boxes over an image, in fractions of its size, each in its label's colour. Drag on the image to draw, drag a box
 * to move it, drag a corner to resize; the selected box is relabeled with 1–9, nudged with the arrows (Shift
 * resizes, Alt takes larger steps), removed with Delete; N adds one in the middle, the keyboard's way to draw.
 */
export function BoxEditor({
  src,
  alt,
  labels,
  regions,
  onChange,
  drawLabel,
  takesLostFocus = false,
}: {
  src: string;
  alt: string;
  labels: Label[];
  regions: Region[];
  onChange: (regions: Region[]) => void;
  drawLabel: string;
  /**
   * Opened from the grid with Enter, or after Save and next, the focus was on what is gone: it comes to the photo,
   * where the keys draw (N) and edit, instead of to the page's start. Focus on Next or a link stays where it is.
   */
  takesLostFocus?: boolean;
}) {
  const surface = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (takesLostFocus && (document.activeElement === null || document.activeElement === document.body))
      surface.current?.focus();
  }, [takesLostFocus]);
  const [selected, setSelected] = useState<number | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  // The photo's width over its height: the surface is as wide as the photo can be at the editor's height limit.
  const [aspect, setAspect] = useState(1);

  const point = (event: PointerEvent) => {
    const rect = surface.current!.getBoundingClientRect();
    return { x: clamp((event.clientX - rect.left) / rect.width), y: clamp((event.clientY - rect.top) / rect.height) };
  };
  const replace = (index: number, region: Region) =>
    onChange(regions.map((item, at) => (at === index ? region : item)));

  const startDraw = (event: PointerEvent<SVGSVGElement>) => {
    if (event.target !== surface.current && !(event.target as Element).classList.contains('backdrop')) return;
    const { x, y } = point(event);
    const region: Region = { label: drawLabel, x, y, width: 0, height: 0 };
    onChange([...regions, region]);
    setSelected(regions.length);
    setDrag({ index: regions.length, handle: 'se', startX: x, startY: y, original: region });
    surface.current!.setPointerCapture(event.pointerId);
  };
  const startDrag = (event: PointerEvent, index: number, handle: Handle) => {
    event.stopPropagation();
    const { x, y } = point(event);
    setSelected(index);
    setDrag({ index, handle, startX: x, startY: y, original: regions[index] });
    surface.current!.setPointerCapture(event.pointerId);
  };
  const onMove = (event: PointerEvent) => {
    if (!drag) return;
    const { x, y } = point(event);
    const dx = x - drag.startX;
    const dy = y - drag.startY;
    const box = drag.original;
    if (drag.handle === 'move') {
      replace(drag.index, { ...box, x: clamp(box.x + dx, 0, 1 - box.width), y: clamp(box.y + dy, 0, 1 - box.height) });
      return;
    }
    const left = drag.handle.includes('w') ? box.x + dx : box.x;
    const right = drag.handle.includes('e') ? box.x + box.width + dx : box.x + box.width;
    const top = drag.handle.includes('n') ? box.y + dy : box.y;
    const bottom = drag.handle.includes('s') ? box.y + box.height + dy : box.y + box.height;
    const [x1, x2] = [clamp(Math.min(left, right)), clamp(Math.max(left, right))];
    const [y1, y2] = [clamp(Math.min(top, bottom)), clamp(Math.max(top, bottom))];
    replace(drag.index, { ...box, x: x1, y: y1, width: x2 - x1, height: y2 - y1 });
  };
  const onUp = () => {
    if (!drag) return;
    const box = regions[drag.index];
    if (box && (box.width < MIN_SIZE || box.height < MIN_SIZE)) {
      onChange(regions.filter((_, at) => at !== drag.index));
      setSelected(null);
    }
    setDrag(null);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Tab') {
      stepThroughBoxes(event);
      return;
    }
    if ((event.key === 'n' || event.key === 'N') && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      onChange([...regions, { label: drawLabel, ...KEYBOARD_BOX }]);
      setSelected(regions.length);
      return;
    }
    if (selected === null || !regions[selected]) return;
    const box = regions[selected];
    const step = event.altKey ? LARGE_NUDGE : NUDGE;
    const arrows: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      onChange(regions.filter((_, at) => at !== selected));
      setSelected(null);
    } else if (/^[1-9]$/.test(event.key) && labels[Number(event.key) - 1]) {
      event.preventDefault();
      replace(selected, { ...box, label: labels[Number(event.key) - 1].id });
    } else if (event.key in arrows) {
      // Alt+Left is the browser's Back elsewhere: on the photo it moves the box instead.
      event.preventDefault();
      const [dx, dy] = arrows[event.key];
      if (event.shiftKey) {
        replace(selected, {
          ...box,
          width: clamp(box.width + dx, MIN_SIZE, 1 - box.x),
          height: clamp(box.height + dy, MIN_SIZE, 1 - box.y),
        });
      } else {
        replace(selected, { ...box, x: clamp(box.x + dx, 0, 1 - box.width), y: clamp(box.y + dy, 0, 1 - box.height) });
      }
    } else if (event.key === 'Escape') {
      setSelected(null);
    }
  };
  /**
   * Tab selects the boxes one after the other, Shift+Tab back; past the last (or before the first) the focus
   * leaves the photo as Tab does anywhere else, so a keyboard user is never held in the editor.
   */
  const stepThroughBoxes = (event: KeyboardEvent) => {
    const next = event.shiftKey ? (selected ?? 0) - 1 : (selected ?? -1) + 1;
    if (next < 0 || next >= regions.length) {
      setSelected(null);
      return;
    }
    event.preventDefault();
    setSelected(next);
  };
  /** From the list of boxes: the box is selected and the photo takes the keys, as after a click on the box. */
  const selectFromList = (index: number) => {
    setSelected(index);
    surface.current?.focus();
  };
  const nameOf = (id: string) => labels.find((label) => label.id === id || label.name === id)?.name ?? id;
  const colourOf = useLabelColour();

  return (
    <div className="box-editor">
      <div className="surface" style={{ '--aspect': aspect } as CSSProperties}>
        <img
          src={src}
          alt={alt}
          draggable={false}
          onLoad={(event) => setAspect(event.currentTarget.naturalWidth / event.currentTarget.naturalHeight)}
        />
        <svg
          ref={surface}
          viewBox="0 0 1 1"
          preserveAspectRatio="none"
          role="application"
          aria-label={`Boxes on ${alt}: drag to draw a box, or N adds one in the middle; select one, then 1–9 relabel, arrows move, Shift+arrows resize, with Alt by 10 %, Delete removes, Tab goes to the next box`}
          tabIndex={0}
          onPointerDown={startDraw}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          onKeyDown={onKeyDown}
        >
          {regions.map((region, index) => (
            <g
              key={index}
              className={index === selected ? 'box selected' : 'box'}
              data-label={nameOf(region.label)}
              style={{ '--label-colour': colourOf(region.label) } as CSSProperties}
            >
              <rect
                x={region.x}
                y={region.y}
                width={region.width}
                height={region.height}
                onPointerDown={(event) => startDrag(event, index, 'move')}
                vectorEffect="non-scaling-stroke"
              />
              {index === selected &&
                (['nw', 'ne', 'sw', 'se'] as const).map((corner) => (
                  <rect
                    key={corner}
                    className={`handle handle-${corner}`}
                    x={(corner.includes('e') ? region.x + region.width : region.x) - 0.012}
                    y={(corner.includes('s') ? region.y + region.height : region.y) - 0.012}
                    width={0.024}
                    height={0.024}
                    vectorEffect="non-scaling-stroke"
                    onPointerDown={(event) => startDrag(event, index, corner)}
                  />
                ))}
            </g>
          ))}
        </svg>
        {/* Each box named on the photo, as Custom Vision tags it; the list below names them for screen readers. */}
        <div className="box-names" aria-hidden="true">
          {regions.map((region, index) => (
            <span
              key={index}
              // A box at the top of the photo has its name inside it, not over the toolbar above.
              className={region.y < 0.08 ? 'inside' : undefined}
              style={
                {
                  left: `${region.x * 100}%`,
                  top: `${region.y * 100}%`,
                  '--label-colour': colourOf(region.label),
                } as CSSProperties
              }
            >
              {nameOf(region.label)}
            </span>
          ))}
        </div>
      </div>
      <p className="hint">
        Drag on the photo to draw a box (or press <kbd>N</kbd> on it for one in the middle), drag a box to move it, a
        corner to resize it. Select a box (click it or its name below), then <kbd>1</kbd>–<kbd>9</kbd> relabel it,
        arrows move it by 1&nbsp;% of the photo, <kbd>Shift</kbd>+arrows resize it, both with <kbd>Alt</kbd> by
        10&nbsp;%, <kbd>Delete</kbd> removes it, <kbd>Tab</kbd> selects the next (after the last, on out of the photo),{' '}
        <kbd>Esc</kbd> lets go of it.
      </p>
      <ol className="box-list" aria-label="Boxes">
        {regions.map((region, index) => (
          <li key={index} className={index === selected ? 'selected' : ''} aria-current={index === selected}>
            <LabelSwatch colour={colourOf(region.label)} />
            <button type="button" className="link" onClick={() => selectFromList(index)}>
              {nameOf(region.label)}
            </button>{' '}
            at {Math.round(region.x * 100)}%, {Math.round(region.y * 100)}% · {Math.round(region.width * 100)}×
            {Math.round(region.height * 100)}%
          </li>
        ))}
      </ol>
    </div>
  );
}
